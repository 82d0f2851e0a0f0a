import { callControl } from '../../supervisor/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind cache clear [child]`: drop cached answers of one child or of all. */
export async function cacheClearCommand(child: string | undefined, options: GlobalOptions): Promise<number> {
  const result = await callControl(
    pathsFor(options).controlSocket,
    'cache.clear',
    child === undefined ? {} : { child },
  );
  process.stdout.write(
    `removed ${result.removed} cached entr${result.removed === 1 ? 'y' : 'ies'}${child ? ` of "${child}"` : ''}\n`,
  );
  return 0;
}

import { join } from 'node:path';
import { followFile, readLastLines } from '../../logs/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind logs [child] [-n N] [-f] [--json]`: the supervisor's log, or one child's. */
export async function logsCommand(
  child: string | undefined,
  options: GlobalOptions & { lines: number; follow?: boolean; json?: boolean },
): Promise<number> {
  const paths = pathsFor(options);
  const source = child ?? 'supervisor';
  const file = join(paths.logsDir, `${source}.log`);
  const print = (line: string) => {
    if (!options.json) return void process.stdout.write(`${line}\n`);
    const match = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(line);
    process.stdout.write(`${JSON.stringify({ source, time: match?.[1] ?? null, line: match?.[2] ?? line })}\n`);
  };
  for (const line of readLastLines(file, options.lines)) print(line);
  if (!options.follow) return 0;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  await followFile(file, print, controller.signal);
  return 0;
}

import { resolve } from 'node:path';
import { runMemoryTransfer } from '../../children/memory/index.js';
import { OmnimindError } from '../../protocol/index.js';
import { callControl } from '../../supervisor/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind memory import|export FILE`: move a knowledge graph in or out as the reference server's JSONL. */
export async function memoryTransferCommand(
  direction: 'import' | 'export',
  file: string,
  options: GlobalOptions,
): Promise<number> {
  const paths = pathsFor(options);
  const target = resolve(file);
  const counts = runMemoryTransfer(direction, target, paths.dataDir);
  const verb = direction === 'import' ? 'imported from' : 'exported to';
  process.stdout.write(`${counts.entities} entities and ${counts.relations} relations ${verb} ${target}\n`);
  if (direction === 'import') {
    // Answers cached before the import would now be stale.
    await callControl(paths.controlSocket, 'cache.clear', { child: 'memory' }).catch((error: unknown) => {
      if (!(error instanceof OmnimindError && error.code === 'NOT_RUNNING')) throw error;
    });
  }
  return 0;
}

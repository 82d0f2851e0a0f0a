import { closeSync, openSync, readSync, statSync, watch } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** How much of a file's end to read per step when looking for the last lines. */
const TAIL_CHUNK_BYTES = 64 * 1024;
/** How often `followFile` checks for new bytes when no change event arrives (rotation, network file systems). */
const FOLLOW_POLL_MS = 250;

/** The last `count` lines of a file (fewer if it is shorter); missing file → []. */
export function readLastLines(path: string, count: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    let position = size;
    let text = '';
    while (position > 0) {
      const length = Math.min(TAIL_CHUNK_BYTES, position);
      position -= length;
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, position);
      text = buffer.toString('utf8') + text;
      if (text.split('\n').length > count + 1) break;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}

/** Calls `onLine` for each line appended to `path` until the signal aborts; survives rotation and truncation. */
export async function followFile(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  let offset = safeSize(path);
  let pending = '';
  const watcher = (() => {
    try {
      return watch(path, { signal });
    } catch {
      return undefined;
    }
  })();
  let wake: (() => void) | undefined;
  watcher?.on('change', () => wake?.());
  watcher?.on('error', () => {});
  while (!signal.aborted) {
    const size = safeSize(path);
    if (size < offset) offset = 0;
    if (size > offset) {
      const fd = openSync(path, 'r');
      const buffer = Buffer.alloc(size - offset);
      readSync(fd, buffer, 0, buffer.length, offset);
      closeSync(fd);
      offset = size;
      pending += buffer.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    }
    await Promise.race([
      delay(FOLLOW_POLL_MS, undefined, { signal }).catch(() => {}),
      new Promise<void>((resolve) => {
        wake = resolve;
      }),
    ]);
  }
  watcher?.close();
}

function safeSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

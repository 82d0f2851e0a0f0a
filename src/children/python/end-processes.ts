import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long ending a uid's processes may take (ms): a few interpreter starts on a busy machine, with margin. */
const END_TIMEOUT_MS = 10_000;
/** Pause before looking again for processes that were signalled but have not exited yet (ms). */
const RECHECK_MS = 10;

// kill(-1) as the uid itself reaches exactly that uid's processes, all at once (no fork can slip in between).
const KILL_ALL = 'import os\nos.kill(-1, 9)';

function realUid(pid: string): number | null {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return null;
  }
}

/**
 * Whether any process, dying ones included, runs with `uid` as its real uid. Read synchronously: a few ms for
 * hundreds of processes, where as many asynchronous reads take several times longer.
 */
function hasProcesses(uid: number): boolean {
  return readdirSync('/proc').some((entry) => /^\d+$/.test(entry) && realUid(entry) === uid);
}

/**
 * Ends every process running as `uid` (omnimind must be root), whatever namespace it sits in, and returns once
 * they are gone. `python` is the interpreter that signals them as that uid.
 */
export async function endProcessesOf(python: string, uid: number): Promise<void> {
  const deadline = Date.now() + END_TIMEOUT_MS;
  while (hasProcesses(uid)) {
    if (Date.now() > deadline) throw new Error(`Could not end the processes of uid ${uid} within ${END_TIMEOUT_MS} ms`);
    try {
      await run(python, ['-I', '-S', '-c', KILL_ALL], { uid, gid: uid, env: {}, timeout: END_TIMEOUT_MS });
    } catch (error) {
      throw new Error(`Could not end the processes of uid ${uid}: ${(error as Error).message.split('\n')[0]}`);
    }
    await sleep(RECHECK_MS);
  }
}

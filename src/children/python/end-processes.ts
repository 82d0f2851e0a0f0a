import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long ending a uid's processes may take (ms): a few interpreter starts on a busy machine, with margin. */
const END_TIMEOUT_MS = 10_000;
/** Pause before looking again for processes that were signalled but have not exited yet (ms). */
const RECHECK_MS = 10;

// kill(-1) as the uid itself reaches exactly that uid's processes, all at once (no fork can slip in between).
const KILL_ALL = 'import os\nos.kill(-1, 9)';

async function realUid(pid: string): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  } catch {
    return null;
  }
}

/** Whether any process, dying ones included, runs with `uid` as its real uid. */
async function hasProcesses(uid: number): Promise<boolean> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const uids = await Promise.all(pids.map(realUid));
  return uids.includes(uid);
}

/**
 * Ends every process running as `uid` (omnimind must be root), whatever namespace it sits in, and returns once
 * they are gone. `python` is the interpreter that signals them as that uid.
 */
export async function endProcessesOf(python: string, uid: number): Promise<void> {
  const deadline = Date.now() + END_TIMEOUT_MS;
  while (await hasProcesses(uid)) {
    if (Date.now() > deadline) throw new Error(`Could not end the processes of uid ${uid} within ${END_TIMEOUT_MS} ms`);
    try {
      await run(python, ['-I', '-S', '-c', KILL_ALL], { uid, gid: uid, env: {}, timeout: END_TIMEOUT_MS });
    } catch (error) {
      throw new Error(`Could not end the processes of uid ${uid}: ${(error as Error).message.split('\n')[0]}`);
    }
    await sleep(RECHECK_MS);
  }
}

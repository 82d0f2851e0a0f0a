import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CappedOutput } from './capped-output.js';
import { endProcessesOf } from './end-processes.js';
import { SANDBOX_PREAMBLE } from './preamble.js';

/** Most bytes kept of each of stdout and stderr (1 MiB); the rest is read and dropped. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Largest file a run may write (64 MiB): room for data files, not for filling the disk with one. */
export const FILE_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Processes and threads a run may have (32): enough for a pool of workers, few enough to stop a fork bomb. */
export const PROCESS_LIMIT = 32;
/** Open files per process (256): ample for scripts, bounded against descriptor exhaustion. */
export const OPEN_FILES_LIMIT = 256;
/** How long to wait for the last output once the run has exited (ms). */
const DRAIN_GRACE_MS = 1_000;
/** Where a run with a private file system finds its own directory (also its HOME and working directory). */
const PRIVATE_RUN_DIR = '/tmp';

/** How a run is sandboxed, decided once at startup from what the machine allows. */
export interface SandboxPlan {
  /** The real interpreter. */
  executable: string;
  /**
   * `unshare` arguments (new network namespace, and PID, IPC, mount or user namespace where possible), or null to
   * run without.
   */
  unshareArgs: string[] | null;
  /** Whether the run's directory replaces /tmp, /var/tmp and /dev/shm and the rest is read-only (own mount namespace). */
  privateFilesystem: boolean;
  /** The uid of run slot 0 (slot i runs as this + i) when omnimind runs as root, or null to keep omnimind's user. */
  firstRunUid: number | null;
  /** Whether the process limit must be added to the processes the user already runs (no uid or user namespace). */
  countOwnProcesses: boolean;
}

/** One run: the code, its input and its limits. */
export interface PythonRun {
  code: string;
  stdin?: string;
  timeoutMs: number;
  memoryMb: number;
  /** The run slot it holds (RunSlots), which picks its uid; 0 when runs go one at a time. */
  slot?: number;
}

/** What a run produced. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code, or null when the run was ended by a signal. */
  exitCode: number | null;
  /** The signal that ended the run, or null. */
  signal: string | null;
  timedOut: boolean;
  /** Whether output was dropped because it passed a cap. */
  truncated: boolean;
  durationMs: number;
}

/** CPU seconds a run may use: its wall time, rounded up, plus one, so the wall clock normally ends it first. */
export function cpuSecondsFor(timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + 1;
}

/** The uid a run switches to, or null when it keeps omnimind's user. */
export function runUid(plan: SandboxPlan, run: PythonRun): number | null {
  return plan.firstRunUid === null ? null : plan.firstRunUid + (run.slot ?? 0);
}

/** The command line that runs main.py inside the sandbox. */
export function buildCommand(plan: SandboxPlan, run: PythonRun): { file: string; args: string[] } {
  const limits = [
    run.memoryMb * 1024 * 1024,
    cpuSecondsFor(run.timeoutMs),
    FILE_SIZE_LIMIT_BYTES,
    PROCESS_LIMIT,
    OPEN_FILES_LIMIT,
    runUid(plan, run) ?? -1,
    plan.countOwnProcesses ? 1 : 0,
    plan.privateFilesystem ? 1 : 0,
  ].map(String);
  const python = [plan.executable, '-I', '-c', SANDBOX_PREAMBLE, ...limits];
  if (plan.unshareArgs === null) return { file: plan.executable, args: python.slice(1) };
  return { file: 'unshare', args: [...plan.unshareArgs, '--', ...python] };
}

/** The whole environment a run sees: nothing of omnimind's own environment leaks in. */
export function sandboxEnv(plan: SandboxPlan, dir: string): Record<string, string> {
  return {
    PATH: `${dirname(plan.executable)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: plan.privateFilesystem ? PRIVATE_RUN_DIR : dir,
    LANG: process.env.LANG || 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONIOENCODING: 'utf-8',
  };
}

/**
 * Runs code in a fresh temporary directory that is removed afterwards; rejects only when Python cannot start.
 * With a uid of its own, every process of that uid is ended after the run, so nothing of it survives and the next
 * run in the slot starts with none (its process limit then counts that run alone).
 */
export async function runPython(plan: SandboxPlan, run: PythonRun, signal?: AbortSignal): Promise<RunResult> {
  const started = performance.now();
  const uid = runUid(plan, run);
  const dir = await mkdtemp(join(tmpdir(), 'omnimind-python-'));
  try {
    await writeFile(join(dir, 'main.py'), run.code, { mode: 0o644 });
    if (uid !== null) await chown(dir, uid, uid);
    const { file, args } = buildCommand(plan, run);
    const child = spawn(file, args, { cwd: dir, env: sandboxEnv(plan, dir), detached: true, stdio: 'pipe' });
    return await superviseRun(child, run, started, signal);
  } finally {
    if (uid !== null) await endProcessesOf(plan.executable, uid);
    await removeTree(dir);
  }
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

function superviseRun(
  child: ChildProcessWithoutNullStreams,
  run: PythonRun,
  started: number,
  signal: AbortSignal | undefined,
): Promise<RunResult> {
  const stdout = new CappedOutput(MAX_OUTPUT_BYTES);
  const stderr = new CappedOutput(MAX_OUTPUT_BYTES);
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {
    // The code exited without reading all of its input; that is its choice.
  });
  child.stdin.end(run.stdin ?? '');
  const closed = once(child, 'close').catch(() => undefined);

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, run.timeoutMs);
  const onAbort = () => killGroup(child);
  signal?.addEventListener('abort', onAbort, { once: true });
  const stopWatching = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };

  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      if (child.pid !== undefined) return;
      stopWatching();
      reject(new Error(`Cannot start Python: ${error.message}`));
    });
    child.once('exit', async (exitCode, exitSignal) => {
      stopWatching();
      // Whatever the code left running in its process group goes with it.
      killGroup(child);
      const grace = new AbortController();
      await Promise.race([closed, sleep(DRAIN_GRACE_MS, undefined, { signal: grace.signal }).catch(() => undefined)]);
      grace.abort();
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        exitCode,
        signal: exitSignal,
        timedOut,
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/** Removes the run's directory, first making every folder in it writable again if the code locked one. */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await unlockTree(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function unlockTree(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await unlockTree(join(dir, entry.name));
  }
}

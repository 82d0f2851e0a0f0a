import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** A supervisor started in the background. */
export interface DaemonHandle {
  pid: number | undefined;
  /** Resolves with the daemon's exit code if it exits. */
  exited: Promise<number>;
}

/**
 * Starts `node <cli> …` in its own session with stdout and stderr appended to `logFile` through an inherited
 * descriptor, so the daemon keeps a valid stderr after the starting command exits. node:child_process, not execa:
 * `omnimind start` then loads no module it does not need before the supervisor runs.
 */
export function spawnDaemon(
  cliPath: string,
  args: string[],
  logFile: string,
  env: Record<string, string>,
): DaemonHandle {
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const subprocess = spawn(process.execPath, [cliPath, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    const exited = new Promise<number>((resolve) => {
      subprocess.once('error', () => resolve(1));
      subprocess.once('exit', (code) => resolve(code ?? 1));
    });
    subprocess.unref();
    return { pid: subprocess.pid, exited };
  } finally {
    closeSync(fd);
  }
}

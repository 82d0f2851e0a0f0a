import { closeSync, openSync } from 'node:fs';
import { execa } from 'execa';

/** A supervisor started in the background. */
export interface DaemonHandle {
  pid: number | undefined;
  /** Resolves with the daemon's exit code if it exits. */
  exited: Promise<number>;
}

/**
 * Starts `node <cli> …` in its own session with stdout and stderr appended to `logFile` through an inherited
 * descriptor, so the daemon keeps a valid stderr after the starting command exits.
 */
export function spawnDaemon(
  cliPath: string,
  args: string[],
  logFile: string,
  env: Record<string, string>,
): DaemonHandle {
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const subprocess = execa(process.execPath, [cliPath, ...args], {
      detached: true,
      cleanup: false,
      reject: false,
      stdin: 'ignore',
      // execa's types accept descriptor numbers only as literals; a runtime descriptor is the same option.
      stdout: fd as 1,
      stderr: fd as 2,
      env,
    });
    subprocess.unref();
    return { pid: subprocess.pid, exited: subprocess.then((result) => result.exitCode ?? 1) };
  } finally {
    closeSync(fd);
  }
}

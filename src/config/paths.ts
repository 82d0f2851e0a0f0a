import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OmnimindError } from '../protocol/index.js';

/** Where omnimind keeps its state, sockets and config (CONTRACT.md, "Directories and environment"). */
export interface OmnimindPaths {
  home: string;
  runtimeDir: string;
  configFile: string;
  dataDir: string;
  logsDir: string;
  stateDb: string;
  cacheDb: string;
  controlSocket: string;
}

/** The kernel's limit on a unix socket path (sun_path is 108 bytes including the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** `/run/user/<uid>` when it exists and is this user's (logind's per-user runtime directory), else undefined. */
function userRuntimeDir(): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = `/run/user/${uid}`;
  try {
    const stat = statSync(dir);
    return stat.isDirectory() && stat.uid === uid ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves every path from the environment, with an optional `--config` override. */
export function resolvePaths(env: NodeJS.ProcessEnv = process.env, configOverride?: string): OmnimindPaths {
  const userHome = env.HOME ?? homedir();
  const stateBase = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : join(userHome, '.local', 'state');
  const home = resolve(env.OMNIMIND_HOME ?? join(stateBase, 'omnimind'));
  const runtimeBase = env.XDG_RUNTIME_DIR || userRuntimeDir();
  const runtimeDir = resolve(
    env.OMNIMIND_RUNTIME_DIR ?? (runtimeBase ? join(runtimeBase, 'omnimind') : join(home, 'run')),
  );
  const configBase = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : join(userHome, '.config');
  const configFile = resolve(configOverride ?? env.OMNIMIND_CONFIG ?? join(configBase, 'omnimind', 'config.json'));
  return {
    home,
    runtimeDir,
    configFile,
    dataDir: join(home, 'data'),
    logsDir: join(home, 'logs'),
    stateDb: join(home, 'omnimind.db'),
    cacheDb: join(home, 'cache.db'),
    controlSocket: join(runtimeDir, 'control.sock'),
  };
}

/** The socket path of one child. */
export function childSocketPath(paths: OmnimindPaths, child: string): string {
  return join(paths.runtimeDir, `${child}.sock`);
}

/** Throws a clear error when a socket path is longer than the kernel accepts. */
export function assertSocketPathFits(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new OmnimindError(
      'SOCKET_PATH_TOO_LONG',
      `The socket path ${path} is ${bytes} bytes, over the kernel's limit of ${MAX_SOCKET_PATH_BYTES}. ` +
        'Set OMNIMIND_RUNTIME_DIR (or XDG_RUNTIME_DIR) to a shorter directory.',
    );
  }
}

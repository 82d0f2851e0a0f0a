import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { assertSocketPathFits } from '../config/index.js';
import { OmnimindError } from '../protocol/index.js';

/** How long a probe of a leftover socket may take before the owner counts as hung but alive. */
const PROBE_TIMEOUT_MS = 1_000;

/** What a probe of a socket path found. */
export type SocketProbe = 'absent' | 'stale' | 'live';

/** Connects to a socket path to learn whether a live process still owns it. */
export async function probeSocket(path: string): Promise<SocketProbe> {
  try {
    if (!lstatSync(path).isSocket()) return 'stale';
  } catch {
    return 'absent';
  }
  return await new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('live');
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'stale' : 'live');
    });
  });
}

/** Binds a server to a socket path: a stale leftover is removed, a live owner is never hijacked; mode 0600. */
export async function listenOnPath(server: Server, path: string): Promise<void> {
  assertSocketPathFits(path);
  const probe = await probeSocket(path);
  if (probe === 'live') {
    throw new OmnimindError(
      'SOCKET_IN_USE',
      `The socket ${path} is owned by a running process. Stop it, or set OMNIMIND_RUNTIME_DIR to another directory.`,
    );
  }
  if (probe === 'stale') unlinkSync(path);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
  chmodSync(path, 0o600);
}

/** Binds a server to an inherited listening descriptor (systemd socket activation). */
export async function listenOnFd(server: Server, fd: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

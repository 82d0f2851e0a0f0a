import { fstatSync } from 'node:fs';
import { OmnimindError } from '../protocol/index.js';

/** The first file descriptor systemd passes (sd_listen_fds(3): SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/** The name sd_listen_fds_with_names(3) gives a socket when LISTEN_FDNAMES is missing. */
const UNNAMED_FD = 'unknown';

/**
 * The listening sockets systemd passed to this process, by FileDescriptorName= (child name, or `control`).
 * Honours LISTEN_PID, and always removes LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID from `env` so children
 * never believe the sockets are theirs. Serve each with `net.createServer().listen({ fd })`; never unlink it.
 */
export function inheritedSockets(env: NodeJS.ProcessEnv = process.env): Map<string, number> {
  const fdsText = env.LISTEN_FDS;
  const namesText = env.LISTEN_FDNAMES;
  const pidText = env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  delete env.LISTEN_PID;

  const sockets = new Map<string, number>();
  if (fdsText === undefined || pidText === undefined || pidText !== String(process.pid)) return sockets;
  if (!/^\d+$/.test(fdsText)) {
    throw invalid(`Expected \`LISTEN_FDS\` to be an integer >= 0, got \`${fdsText}\``);
  }
  const count = Number(fdsText);
  if (count === 0) return sockets;
  const names = namesText === undefined ? Array.from({ length: count }, () => UNNAMED_FD) : namesText.split(':');
  if (names.length !== count) {
    throw invalid(`LISTEN_FDNAMES names ${names.length} sockets but LISTEN_FDS passes ${count}.`);
  }
  names.forEach((name, index) => {
    const fd = LISTEN_FDS_START + index;
    if (sockets.has(name)) {
      throw invalid(
        `Two inherited sockets are both named \`${name}\`. Give each socket unit its own FileDescriptorName= ` +
          '(omnimind@<child>.socket does this for you).',
      );
    }
    if (!isSocket(fd)) throw invalid(`Inherited fd ${fd} (\`${name}\`) is not an open socket.`);
    sockets.set(name, fd);
  });
  return sockets;
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

function invalid(message: string): OmnimindError {
  return new OmnimindError('LISTEN_FDS_INVALID', message);
}

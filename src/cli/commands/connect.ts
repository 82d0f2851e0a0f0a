import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { assertSocketPathFits, childSocketPath } from '../../config/index.js';
import { OmnimindError } from '../../protocol/index.js';
import { RUNTIME_DIR_CHECK, verifyPrivateDir } from '../../supervisor/private-dir.js';
import { type GlobalOptions, pathsFor } from '../context.js';

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * `omnimind connect [endpoint]`: bridges stdin/stdout to an endpoint's socket (default: the `omnimind` profile), for
 * an MCP client's `command`. It needs only the runtime directory, which it finds from HOME alone unless the entry
 * sets OMNIMIND_RUNTIME_DIR (what `omnimind clients add` writes when the shell's runtime directory differs).
 */
export async function connectCommand(endpoint: string, options: GlobalOptions): Promise<number> {
  const paths = pathsFor(options);
  const path = childSocketPath(paths, endpoint);
  assertSocketPathFits(path);
  // A socket in a directory another user could change may be theirs: refuse before connecting.
  verifyPrivateDir(dirname(path), RUNTIME_DIR_CHECK);
  let socket: Socket;
  try {
    socket = await open(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') {
      throw new OmnimindError('CONNECT_FAILED', `Cannot connect to ${path}: ${(error as Error).message}.`);
    }
    const supervisor = await open(paths.controlSocket).then(
      (control) => {
        control.destroy();
        return true;
      },
      () => false,
    );
    throw new OmnimindError(
      'NOT_RUNNING',
      supervisor
        ? `The omnimind supervisor in ${paths.runtimeDir} has no endpoint "${endpoint}": \`omnimind status\` lists them.`
        : `The omnimind supervisor is not running (nothing listens in ${paths.runtimeDir}): start it with \`omnimind start\`.`,
    );
  }
  return await new Promise((resolve) => {
    socket.on('error', () => resolve(1));
    socket.once('close', () => resolve(0));
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
  });
}

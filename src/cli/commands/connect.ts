import { connect } from 'node:net';
import { dirname } from 'node:path';
import { childSocketPath } from '../../config/index.js';
import { OmnimindError } from '../../protocol/index.js';
import { RUNTIME_DIR_CHECK, verifyPrivateDir } from '../../supervisor/private-dir.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind connect <child>`: bridges stdin/stdout to the child's socket, for an MCP client's `command`. */
export async function connectCommand(child: string, options: GlobalOptions): Promise<number> {
  const path = childSocketPath(pathsFor(options), child);
  // A socket in a directory another user could change may be theirs: refuse before connecting.
  verifyPrivateDir(dirname(path), RUNTIME_DIR_CHECK);
  return await new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(
          new OmnimindError(
            'NOT_RUNNING',
            `No omnimind socket for "${child}" at ${path}: the supervisor is not running or has no child "${child}". ` +
              'Start it with `omnimind start`, and check the name with `omnimind status`.',
          ),
        );
      } else {
        reject(new OmnimindError('CONNECT_FAILED', `Cannot connect to ${path}: ${error.message}`));
      }
    });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => resolve(1));
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      socket.once('close', () => resolve(0));
    });
  });
}

import { connect } from 'node:net';
import { dirname } from 'node:path';
import { encodeFrame, LineSplitter, OmnimindError } from '../protocol/index.js';
import type { ControlMethod, ControlMethods } from './control-protocol.js';
import { RUNTIME_DIR_CHECK, verifyPrivateDir } from './private-dir.js';

const NOT_RUNNING = 'The omnimind supervisor is not running. Start it with `omnimind start`.';

/**
 * Sends one request to a supervisor's control socket and returns its result. The runtime directory is checked first:
 * a socket in a directory another user could change may be theirs, and is never spoken to.
 */
export async function callControl<M extends ControlMethod>(
  socketPath: string,
  method: M,
  params: ControlMethods[M]['params'],
  timeoutMs = 30_000,
): Promise<ControlMethods[M]['result']> {
  if (!verifyPrivateDir(dirname(socketPath), RUNTIME_DIR_CHECK)) {
    throw new OmnimindError('NOT_RUNNING', NOT_RUNNING, { exitCode: 3 });
  }
  return await new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OmnimindError('CONTROL_TIMEOUT', `The supervisor did not answer "${method}" within ${timeoutMs} ms.`));
    }, timeoutMs);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const splitter = new LineSplitter(
      {
        onFrame: (frame) => {
          const message = JSON.parse(frame) as {
            result?: unknown;
            error?: { message: string; data?: { code?: string } };
          };
          if (message.error) {
            finish(() =>
              reject(
                new OmnimindError(message.error?.data?.code ?? 'CONTROL_ERROR', message.error?.message ?? 'error'),
              ),
            );
          } else {
            finish(() => resolve(message.result as ControlMethods[M]['result']));
          }
        },
        onOversize: () => finish(() => reject(new OmnimindError('CONTROL_ERROR', 'oversized control answer'))),
      },
      256 * 1024 * 1024,
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('connect', () => socket.write(encodeFrame({ jsonrpc: '2.0', id: 1, method, params })));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
            ? new OmnimindError('NOT_RUNNING', NOT_RUNNING, { exitCode: 3 })
            : new OmnimindError('CONTROL_ERROR', `Cannot reach the supervisor at ${socketPath}: ${error.message}`),
        ),
      ),
    );
    socket.on('close', () =>
      finish(() => reject(new OmnimindError('CONTROL_ERROR', 'The supervisor closed the connection.'))),
    );
  });
}

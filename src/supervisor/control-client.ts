import { connect } from 'node:net';
import { encodeFrame, LineSplitter, OmnimindError } from '../protocol/index.js';
import type { ControlMethod, ControlMethods } from './control-protocol.js';

/** Sends one request to a supervisor's control socket and returns its result. */
export async function callControl<M extends ControlMethod>(
  socketPath: string,
  method: M,
  params: ControlMethods[M]['params'],
  timeoutMs = 30_000,
): Promise<ControlMethods[M]['result']> {
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
            ? new OmnimindError(
                'NOT_RUNNING',
                'The omnimind supervisor is not running. Start it with `omnimind start`.',
                { exitCode: 3 },
              )
            : new OmnimindError('CONTROL_ERROR', `Cannot reach the supervisor at ${socketPath}: ${error.message}`),
        ),
      ),
    );
    socket.on('close', () =>
      finish(() => reject(new OmnimindError('CONTROL_ERROR', 'The supervisor closed the connection.'))),
    );
  });
}

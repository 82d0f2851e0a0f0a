import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, encodeFrame, LineSplitter, OmnimindError, parseFrame, rejectionFor } from '../protocol/index.js';
import type { ControlMethod, ControlMethods } from './control-protocol.js';

/** Control requests are small: 1 MiB is plenty and bounds a misbehaving peer. */
const CONTROL_MAX_FRAME_BYTES = 1024 * 1024;

/** The handlers behind the control socket, one per method. */
export type ControlHandlers = {
  [M in ControlMethod]: (params: ControlMethods[M]['params']) => Promise<ControlMethods[M]['result']>;
};

/** Serves the CLI's JSON-RPC requests on the control socket. */
export function createControlServer(handlers: ControlHandlers): Server {
  const server = createServer((socket: Socket) => {
    const splitter = new LineSplitter(
      {
        onFrame: (frame) => void answer(socket, frame),
        onOversize: (limitBytes) =>
          socket.write(
            encodeFrame({
              jsonrpc: '2.0',
              id: null,
              error: { code: ErrorCode.FrameTooLarge, message: 'Frame too large', data: { limitBytes } },
            }),
          ),
      },
      CONTROL_MAX_FRAME_BYTES,
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => socket.destroy());
  });
  server.on('error', () => {});

  async function answer(socket: Socket, frame: string): Promise<void> {
    const parsed = parseFrame(frame);
    const rejection = rejectionFor(parsed);
    if (rejection) return void socket.write(encodeFrame(rejection));
    if (parsed.kind !== 'request') return;
    const { id, method, params } = parsed.message;
    const handler = (handlers as Record<string, ((p: unknown) => Promise<unknown>) | undefined>)[method];
    let response: unknown;
    if (!handler) {
      response = {
        jsonrpc: '2.0',
        id,
        error: { code: ErrorCode.MethodNotFound, message: `Unknown control method ${method}` },
      };
    } else {
      try {
        response = { jsonrpc: '2.0', id, result: await handler(params ?? {}) };
      } catch (error) {
        const code = error instanceof OmnimindError ? error.code : 'INTERNAL';
        response = {
          jsonrpc: '2.0',
          id,
          error: { code: ErrorCode.InvalidParams, message: (error as Error).message, data: { code } },
        };
      }
    }
    if (!socket.destroyed) socket.write(encodeFrame(response));
  }
  return server;
}

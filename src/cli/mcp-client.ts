import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { childSocketPath, type OmnimindPaths, VERSION } from '../config/index.js';
import { encodeFrame, LineSplitter, OmnimindError } from '../protocol/index.js';
import { RUNTIME_DIR_CHECK, verifyPrivateDir } from '../supervisor/private-dir.js';

/** Largest answer the CLI accepts from a child (a big tool result). */
const CLI_MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** A minimal MCP client over a child's socket, for `omnimind tools` and `omnimind call`. */
export class SocketMcpClient {
  readonly #socket: Socket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const splitter = new LineSplitter(
      {
        onFrame: (frame) => {
          const message = JSON.parse(frame) as {
            id?: number;
            result?: unknown;
            error?: { code: number; message: string };
          };
          const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
          if (!pending) return;
          this.#pending.delete(message.id as number);
          if (message.error) {
            pending.reject(new OmnimindError('MCP_ERROR', `${message.error.message} (code ${message.error.code})`));
          } else pending.resolve(message.result);
        },
        onOversize: () => {},
      },
      CLI_MAX_FRAME_BYTES,
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new OmnimindError('MCP_ERROR', 'The connection closed.'));
      this.#pending.clear();
    });
  }

  /** Connects to a child's socket and performs the MCP handshake. */
  static async open(paths: OmnimindPaths, child: string): Promise<SocketMcpClient> {
    const path = childSocketPath(paths, child);
    // A socket in a directory another user could change may be theirs: refuse before connecting.
    verifyPrivateDir(dirname(path), RUNTIME_DIR_CHECK);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new OmnimindError(
            'NOT_RUNNING',
            error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
              ? `No socket for "${child}" at ${path}: is the supervisor running (\`omnimind status\`) and is "${child}" one of its children?`
              : `Cannot connect to ${path}: ${error.message}`,
          ),
        ),
      );
    });
    const client = new SocketMcpClient(socket);
    await client.request('initialize', {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'omnimind-cli', version: VERSION },
    });
    socket.write(encodeFrame({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return client;
  }

  /** Sends a request and resolves with its result; a JSON-RPC error rejects. */
  request(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(encodeFrame({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.end();
  }
}

import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, McpError } from '@modelcontextprotocol/sdk/types.js';
import { childSocketPath, type OmnimindPaths, VERSION } from '../config/index.js';
import { OmnimindError } from '../protocol/index.js';
import { RUNTIME_DIR_CHECK, verifyPrivateDir } from '../supervisor/private-dir.js';

/** The MCP SDK's client transport over a connected unix socket (newline-delimited JSON-RPC, as on stdio). */
class SocketClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #socket: Socket;
  readonly #buffer = new ReadBuffer();

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  async start(): Promise<void> {
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer.append(chunk);
      try {
        for (let message = this.#buffer.readMessage(); message !== null; message = this.#buffer.readMessage()) {
          this.onmessage?.(message);
        }
      } catch (error) {
        this.onerror?.(error as Error);
      }
    });
    this.#socket.on('error', (error) => this.onerror?.(error));
    this.#socket.on('close', () => this.onclose?.());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.#socket.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.#socket.end();
  }
}

/** Connects the official MCP SDK client to an endpoint's socket (a child or a profile) and performs the handshake. */
export async function openEndpointClient(paths: OmnimindPaths, endpoint: string): Promise<Client> {
  const path = childSocketPath(paths, endpoint);
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
            ? `No socket for "${endpoint}" at ${path}: is the supervisor running (\`omnimind status\`) and is "${endpoint}" one of its children or profiles?`
            : `Cannot connect to ${path}: ${error.message}`,
        ),
      ),
    );
  });
  const client = new Client({ name: 'omnimind-cli', version: VERSION });
  await client.connect(new SocketClientTransport(socket)).catch((error: unknown) => {
    socket.destroy();
    throw asCliError(error);
  });
  return client;
}

/** A JSON-RPC error from the endpoint, as the CLI reports it. */
export function asCliError(error: unknown): unknown {
  if (error instanceof McpError) return new OmnimindError('MCP_ERROR', `${error.message} (code ${error.code})`);
  return error;
}

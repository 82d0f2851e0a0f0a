import { connect, type Socket } from 'node:net';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** An MCP SDK transport over a unix socket, so the official Client can talk to a child socket directly. */
export class SocketClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #path: string;
  readonly #buffer = new ReadBuffer();
  #socket: Socket | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(this.#path);
      this.#socket = socket;
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        this.#buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.#buffer.readMessage();
          } catch (error) {
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      socket.on('close', () => this.onclose?.());
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.#socket?.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.#socket?.destroy();
  }
}

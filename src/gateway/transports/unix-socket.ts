import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, flushCoalesced, LineSplitter, readIdText, writeCoalesced } from '../../protocol/index.js';
import type { ConnectionBudget } from '../connection-budget.js';
import type { ClientTransport, TransportHandlers } from '../transport.js';

/** A client that stops reading may hold at most this much unsent output before it is disconnected. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;
/** How long a closing connection may take to flush its last frames before it is destroyed. */
const FLUSH_GRACE_MS = 1_000;

/** Options of a UnixSocketTransport. */
export interface UnixSocketTransportOptions {
  maxFrameBytes: number;
  /** The supervisor-wide bound on unfinished frames, and how long one may stay unfinished. */
  budget?: ConnectionBudget;
}

/**
 * A client on a unix socket: newline-delimited JSON-RPC, split with a size limit, its unfinished frame counted in the
 * supervisor's budget and bounded in time, and its unsent output bounded.
 */
export class UnixSocketTransport implements ClientTransport {
  readonly kind = 'unix';
  readonly #socket: Socket;
  readonly #budget: ConnectionBudget | undefined;
  readonly #splitter: LineSplitter;
  #handlers: TransportHandlers | undefined;
  #closed = false;
  /** Bytes of this client's unfinished frame counted in the budget. */
  #bufferedBytes = 0;
  #frames = 0;
  #frameTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: UnixSocketTransportOptions) {
    this.#socket = socket;
    this.#budget = options.budget;
    this.#splitter = new LineSplitter(
      {
        onFrame: (frame) => {
          this.#frames++;
          this.#handlers?.onFrame(frame);
        },
        onOversize: (limitBytes, head) => {
          const error = {
            code: ErrorCode.FrameTooLarge,
            message: `Frame larger than ${limitBytes} bytes`,
            data: { limitBytes },
          };
          this.send(`{"jsonrpc":"2.0","id":${readIdText(head) ?? 'null'},"error":${JSON.stringify(error)}}\n`);
        },
      },
      options.maxFrameBytes,
    );
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // A client that half-closes still gets the answers written before its end was read: once it is, node refuses
    // writes to the socket, so what this turn holds is handed over first.
    this.#socket.prependListener('end', () => flushCoalesced(this.#socket));
    this.#socket.on('error', () => this.close());
    this.#socket.on('close', () => this.close());
  }

  /** Splits the client's bytes into frames, keeping its unfinished frame within the budget's bytes and time. */
  #onData(chunk: Buffer): void {
    // A connection being closed reads nothing more: what it still sends is never held.
    if (this.#closed) return;
    const frames = this.#frames;
    this.#splitter.push(chunk);
    const budget = this.#budget;
    if (!budget || this.#closed) return;
    const pending = this.#splitter.pendingBytes;
    if (!budget.adjustBuffered(pending - this.#bufferedBytes)) {
      return this.#closeWithError(
        `The supervisor holds too many unfinished frames (gateway.maxBufferedBytes = ${budget.limits.maxBufferedBytes}); send whole frames`,
      );
    }
    this.#bufferedBytes = pending;
    if (pending === 0 || frames !== this.#frames) {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    }
    if (pending > 0 && this.#frameTimer === undefined) {
      const { frameTimeoutMs } = budget.limits;
      this.#frameTimer = setTimeout(
        () => this.#closeWithError(`Frame not completed within ${frameTimeoutMs} ms (gateway.frameTimeoutMs)`),
        frameTimeoutMs,
      );
    }
  }

  #closeWithError(message: string): void {
    this.send(`{"jsonrpc":"2.0","id":null,"error":${JSON.stringify({ code: ErrorCode.InvalidRequest, message })}}\n`);
    this.close(true);
  }

  send(frame: string): void {
    if (this.#closed) return;
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) {
      this.close();
      return;
    }
    writeCoalesced(this.#socket, frame);
  }

  close(flush = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#frameTimer);
    this.#budget?.adjustBuffered(-this.#bufferedBytes);
    this.#bufferedBytes = 0;
    this.#handlers?.onClose();
    if (!flush) return void this.#socket.destroy();
    this.#socket.pause();
    flushCoalesced(this.#socket);
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), FLUSH_GRACE_MS).unref();
  }
}

/**
 * A listening server for one endpoint's socket: each connection is admitted by the budget (or told why not and
 * closed), then handed over as a transport.
 */
export function createUnixServer(
  endpointName: string,
  options: UnixSocketTransportOptions,
  accept: (transport: UnixSocketTransport, socket: Socket) => void,
): Server {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    const release = options.budget ? options.budget.admit(endpointName, socket) : () => {};
    if (!release) return;
    socket.once('close', release);
    accept(new UnixSocketTransport(socket, options), socket);
  });
  server.on('error', () => {});
  return server;
}

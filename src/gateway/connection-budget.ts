import type { Socket } from 'node:net';
import { ErrorCode, encodeFrame } from '../protocol/index.js';

/** Limits on what clients may hold open in the supervisor, across all of its child sockets. */
export interface ConnectionLimits {
  /** Client connections open at once, all sockets together. */
  maxConnections: number;
  /** Client connections open at once on one child's socket. */
  maxConnectionsPerSocket: number;
  /** Bytes of unfinished frames held for all clients together. */
  maxBufferedBytes: number;
  /** How long a frame may stay half received before its connection is closed (ms). */
  frameTimeoutMs: number;
}

/** The defaults of `gateway.*` (CONTRACT: bounded connections and buffers). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1024,
  maxConnectionsPerSocket: 256,
  maxBufferedBytes: 64 * 1024 * 1024,
  frameTimeoutMs: 30_000,
};

/** When a refused client may try to connect again (ms). */
export const RETRY_CONNECT_MS = 1_000;

/** Tells a client it cannot be served now (-32010, CONTRACT: overloaded) and closes its connection. */
export function refuseConnection(socket: Socket, message: string, data: Record<string, unknown> = {}): void {
  const error = { code: ErrorCode.Overloaded, message, data: { retryAfterMs: RETRY_CONNECT_MS, ...data } };
  socket.on('error', () => {});
  socket.end(encodeFrame({ jsonrpc: '2.0', id: null, error }));
  setTimeout(() => socket.destroy(), RETRY_CONNECT_MS).unref();
}

/**
 * Counts connections per socket and in total, and the bytes of unfinished frames held for them, so that no number
 * of clients, slow or hostile, can make the supervisor hold more than the limits say.
 */
export class ConnectionBudget {
  limits: ConnectionLimits;
  readonly #perSocket = new Map<string, number>();
  #connections = 0;
  #bufferedBytes = 0;

  constructor(limits: Partial<ConnectionLimits> = {}) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  }

  /** Takes new limits (a reload): they bound what is admitted from now on; nothing open is closed for them. */
  reconfigure(limits: Partial<ConnectionLimits>): void {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  }

  /**
   * Takes a new connection on `socketName` if the limits allow and returns its release function (idempotent);
   * otherwise tells the client why, closes it and returns undefined.
   */
  admit(socketName: string, socket: Socket): (() => void) | undefined {
    const taken = this.#take(socketName);
    if (typeof taken === 'string') return void refuseConnection(socket, taken);
    return taken;
  }

  /**
   * Takes one place for a client that is not a socket connection (an HTTP session or stream) in the total bound only;
   * returns its release function (idempotent), or why there is no place.
   */
  takeSession(): (() => void) | string {
    return this.#take(undefined);
  }

  /** Takes a place in the total and, for a socket, in its own bound: the release function, or why not. */
  #take(socketName: string | undefined): (() => void) | string {
    const onSocket = socketName === undefined ? 0 : (this.#perSocket.get(socketName) ?? 0);
    const { maxConnections, maxConnectionsPerSocket } = this.limits;
    if (this.#connections >= maxConnections) {
      return `Too many connections: the supervisor accepts at most ${maxConnections} (gateway.maxConnections)`;
    }
    if (socketName !== undefined && onSocket >= maxConnectionsPerSocket) {
      return `Too many connections to "${socketName}": at most ${maxConnectionsPerSocket} (gateway.maxConnectionsPerSocket)`;
    }
    this.#connections++;
    if (socketName !== undefined) this.#perSocket.set(socketName, onSocket + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#connections--;
      if (socketName !== undefined) this.#perSocket.set(socketName, (this.#perSocket.get(socketName) ?? 1) - 1);
    };
  }

  /** Accounts a change in one connection's unfinished bytes; false when the total would exceed the limit. */
  adjustBuffered(delta: number): boolean {
    if (delta > 0 && this.#bufferedBytes + delta > this.limits.maxBufferedBytes) return false;
    this.#bufferedBytes += delta;
    return true;
  }
}

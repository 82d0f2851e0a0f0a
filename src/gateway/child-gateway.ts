import { createServer, type Server } from 'node:net';
import { ChildRouter } from './child-router.js';
import { type ChildState, isDown } from './child-state.js';
import { ClientSession, type SessionServices } from './session.js';
import type { ChildLink, RequestCache, RequestLimiter } from './types.js';

/** Options of a ChildGateway. */
export interface ChildGatewayOptions extends Omit<SessionServices, 'waitForRunning'> {
  cache?: RequestCache;
  limiter?: RequestLimiter;
  /** The child's configured roots (file:// URIs): the answer to a `roots/list` no single client can be asked. */
  configuredRoots?: readonly string[];
}

/** One child's socket: accepts any number of MCP clients and routes them all to the child through one router. */
export class ChildGateway {
  readonly router: ChildRouter;
  readonly server: Server;
  readonly #services: SessionServices;

  constructor(link: ChildLink, options: ChildGatewayOptions) {
    this.router = new ChildRouter(link, {
      cache: options.cache,
      limiter: options.limiter,
      configuredRoots: options.configuredRoots,
    });
    this.#services = { ...options, waitForRunning: (signal) => waitForRunning(link, signal) };
    this.server = createServer((socket) => {
      const release = options.budget ? options.budget.admit(link.name, socket) : () => {};
      if (!release) return;
      socket.once('close', release);
      new ClientSession(socket, this.router, this.#services);
    });
    this.server.on('error', () => {});
  }

  /** Stops accepting, disconnects every client; the listening socket itself is closed by its owner. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of [...this.router.sessions]) session.close();
    await closed;
  }
}

/**
 * Resolves true once the child is RUNNING, false if it goes down, fails a start on demand, or the signal aborts
 * first. An IDLE child is started.
 */
export function waitForRunning(link: ChildLink, signal: AbortSignal): Promise<boolean> {
  if (link.state === 'RUNNING') return Promise.resolve(true);
  if (isDown(link.state) || signal.aborted) return Promise.resolve(false);
  link.demand();
  return new Promise((resolve) => {
    const onState = (state: ChildState) => {
      if (state !== 'RUNNING' && state !== 'IDLE' && !isDown(state)) return;
      cleanup();
      resolve(state === 'RUNNING');
    };
    const onAbort = () => {
      cleanup();
      resolve(false);
    };
    const cleanup = () => {
      (link as unknown as NodeJS.EventEmitter).off('state', onState);
      signal.removeEventListener('abort', onAbort);
    };
    link.on('state', onState);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

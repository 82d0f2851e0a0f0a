import type { Server } from 'node:net';
import type { Priority } from '../limiter/index.js';
import { ChildEndpoint } from './child-endpoint.js';
import { ChildRouter } from './child-router.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { Member } from './endpoint.js';
import type { CompressionPolicy } from './result-compression.js';
import { ClientSession, type SessionServices } from './session.js';
import type { ClientTransport } from './transport.js';
import { createUnixServer } from './transports/unix-socket.js';
import type { ChildLink, RequestCache, RequestLimiter } from './types.js';

/** Options of a ChildGateway. */
export interface ChildGatewayOptions {
  cache?: RequestCache;
  limiter?: RequestLimiter;
  /** The supervisor-wide bound on connections and unfinished frames. */
  budget?: ConnectionBudget;
  maxFrameBytes: number;
  /** Default priorities per client name and per tool name. */
  priorities: { clients: Record<string, Priority>; tools: Record<string, Priority> };
  /** Token budgets for this child's text results. */
  compression?: CompressionPolicy;
  /** The child confines each request to the roots of the client that sent it. */
  honoursRoots?: boolean;
  /** The child's configured roots (file:// URIs): the answer to a `roots/list` no single client can be asked. */
  configuredRoots?: readonly string[];
}

/** One child's endpoint: accepts any number of MCP clients and routes them all to the child through one router. */
export class ChildGateway {
  readonly router: ChildRouter;
  /** The child as profiles and sessions reach it. */
  readonly member: Member;
  readonly endpoint: ChildEndpoint;
  readonly server: Server;
  readonly sessions = new Set<ClientSession>();
  readonly #services: SessionServices;

  constructor(link: ChildLink, options: ChildGatewayOptions) {
    this.router = new ChildRouter(link, {
      cache: options.cache,
      limiter: options.limiter,
      configuredRoots: options.configuredRoots,
    });
    this.member = {
      router: this.router,
      honoursRoots: options.honoursRoots === true,
      compression: options.compression,
      toolPriorities: options.priorities.tools,
    };
    this.endpoint = new ChildEndpoint(this.member);
    this.#services = { cache: options.cache, limiter: options.limiter, clientPriorities: options.priorities.clients };
    this.server = createUnixServer(link.name, options, (transport) => this.accept(transport));
  }

  /** Serves one client, over any transport. */
  accept(transport: ClientTransport): ClientSession {
    const session = new ClientSession(transport, this.endpoint, this.#services, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    return session;
  }

  /** Stops accepting, disconnects every client; the listening socket itself is closed by its owner. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of [...this.sessions]) session.close();
    await closed;
  }
}

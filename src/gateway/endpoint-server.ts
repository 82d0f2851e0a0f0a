import type { Server } from 'node:net';
import type { Endpoint } from './endpoint.js';
import { ClientSession, type SessionServices } from './session.js';
import type { ClientTransport } from './transport.js';
import { EraBridge } from './transports/era-bridge.js';
import { createUnixServer, type UnixSocketTransportOptions } from './transports/unix-socket.js';

/** How long a request may wait for its client's input without a limiter (the limiter's default timeout). */
const DEFAULT_INPUT_TIMEOUT_MS = 30_000;

/** One endpoint's listening socket and its connected clients, over any transport that hands them over. */
export class EndpointServer {
  readonly endpoint: Endpoint;
  readonly server: Server;
  readonly sessions = new Set<ClientSession>();
  readonly #services: SessionServices;

  constructor(endpoint: Endpoint, services: SessionServices, transport: UnixSocketTransportOptions) {
    this.endpoint = endpoint;
    this.#services = services;
    // A socket client of either era: 2026-07-28 requests are bridged to the 2025-era session machinery.
    this.server = createUnixServer(endpoint.name, transport, (t) => this.accept(new EraBridge(t, this)));
  }

  /** How long a request may wait for its client's input (a 2026-07-28 retry): the limiter's request timeout. */
  get inputTimeoutMs(): number {
    return this.#services.limiter?.timeoutMs ?? DEFAULT_INPUT_TIMEOUT_MS;
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

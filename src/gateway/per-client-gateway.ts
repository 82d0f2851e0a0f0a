import type { Server, Socket } from 'node:net';
import type { Priority } from '../limiter/index.js';
import type { Telemetry } from '../metrics/index.js';
import { ChildEndpoint } from './child-endpoint.js';
import { ChildRouter } from './child-router.js';
import { type ConnectionBudget, refuseConnection } from './connection-budget.js';
import type { CompressionPolicy } from './result-compression.js';
import { ClientSession } from './session.js';
import type { ClientTransport } from './transport.js';
import { createUnixServer } from './transports/unix-socket.js';
import type { ChildLink, RequestLimiter } from './types.js';

/** A child process started for one client and stopped when that client leaves. */
export interface InstanceLink extends ChildLink {
  start(): void;
  stop(timeoutMs?: number): Promise<void>;
}

/** Options of a PerClientGateway. */
export interface PerClientGatewayOptions<L extends InstanceLink = InstanceLink> {
  limiter?: RequestLimiter;
  /** Request counters, latency histograms and spans. */
  telemetry?: Telemetry;
  /** The supervisor-wide bound on connections and unfinished frames. */
  budget?: ConnectionBudget;
  maxFrameBytes: number;
  /** Default priorities per client name and per tool name. */
  priorities: { clients: Record<string, Priority>; tools: Record<string, Priority> };
  /** Token budgets for this child's text results. */
  compression?: CompressionPolicy;
  /** The child's name (its socket's). */
  name: string;
  /** Processes that may run at once; a client beyond it is refused. */
  maxInstances: number;
  /** Creates (without starting) the process of one slot; slots are reused once their process is gone. */
  createInstance(slot: number): L;
}

/** One live instance: its process and the router of the one client it serves. */
export interface ClientInstance<L extends InstanceLink = InstanceLink> {
  readonly slot: number;
  readonly link: L;
  readonly router: ChildRouter;
  /** The one client this process serves. */
  readonly session: ClientSession;
}

/**
 * A child's socket in `per-client` isolation: every connection gets its own process, supervised like any child and
 * stopped (its whole process group) when the connection closes, so no client ever shares state with another.
 * Nothing is cached: an answer belongs to one process's state.
 */
export class PerClientGateway<L extends InstanceLink = InstanceLink> {
  readonly server: Server;
  readonly instances = new Map<number, ClientInstance<L>>();
  readonly #options: PerClientGatewayOptions<L>;
  readonly #releases = new Map<number, Promise<void>>();
  #closing = false;

  constructor(options: PerClientGatewayOptions<L>) {
    this.#options = options;
    this.server = createUnixServer(options.name, options, (transport, socket) => this.#accept(transport, socket));
  }

  #accept(transport: ClientTransport, socket: Socket): void {
    const slot = this.#freeSlot();
    if (this.#closing || slot === undefined) {
      const { maxInstances } = this.#options;
      refuseConnection(socket, `Too many clients: this server runs one process per client, at most ${maxInstances}`, {
        maxInstances,
      });
      return;
    }
    const link = this.#options.createInstance(slot);
    const { limiter, telemetry, priorities, compression } = this.#options;
    const router = new ChildRouter(link, { limiter, dedicated: true });
    const endpoint = new ChildEndpoint({ router, honoursRoots: false, compression, toolPriorities: priorities.tools });
    const session = new ClientSession(
      transport,
      endpoint,
      { limiter, telemetry, clientPriorities: priorities.clients },
      () => {
        void this.#release(instance);
      },
    );
    const instance: ClientInstance<L> = { slot, link, router, session };
    this.instances.set(slot, instance);
    link.start();
  }

  #freeSlot(): number | undefined {
    for (let slot = 1; slot <= this.#options.maxInstances; slot++) if (!this.instances.has(slot)) return slot;
    return undefined;
  }

  /** Stops an instance whose client left (once); its slot is free once the process group is gone. */
  #release(instance: ClientInstance<L>): Promise<void> {
    let release = this.#releases.get(instance.slot);
    if (release) return release;
    release = instance.link
      .stop()
      .catch(() => {})
      .finally(() => {
        this.instances.delete(instance.slot);
        this.#releases.delete(instance.slot);
      });
    this.#releases.set(instance.slot, release);
    return release;
  }

  /** Disconnects every client and waits until each one's process is gone. */
  async disconnectAll(): Promise<void> {
    const instances = [...this.instances.values()];
    for (const instance of instances) instance.session.close();
    await Promise.all(instances.map((instance) => this.#release(instance)));
  }

  /** Stops accepting, disconnects every client and stops every process. */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.disconnectAll();
    await closed;
  }
}

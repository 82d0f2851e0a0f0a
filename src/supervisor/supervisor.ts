import { unlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { ResponseCache } from '../cache/index.js';
import {
  assertSocketPathFits,
  type ChildSpec,
  childSocketPath,
  type OmnimindPaths,
  type ProfileSpec,
  type RawConfig,
  resolveProfiles,
  VERSION,
} from '../config/index.js';
import {
  ChildGateway,
  type ChildRouter,
  type CompressionPolicy,
  ConnectionBudget,
  PerClientGateway,
  ProfileGateway,
  waitForRunning,
} from '../gateway/index.js';
import { AdaptiveLimiter, type Priority } from '../limiter/index.js';
import type { Logger } from '../logs/index.js';
import { type FleetSample, Telemetry } from '../metrics/index.js';
import { DEFAULT_MAX_FRAME_BYTES, OmnimindError } from '../protocol/index.js';
import { childIdentity, configuredRootUris, honoursClientRoots } from './child-scope.js';
import type { ChildReport, ProfileReport, StatusReport } from './control-protocol.js';
import type { ControlHandlers } from './control-server.js';
import { createControlServer } from './control-server.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { ManagedChild } from './managed-child.js';
import { killOrphans } from './orphans.js';
import { readProcUsage } from './proc.js';
import { listenOnFd, listenOnPath } from './sockets.js';
import { StateDb } from './state-db.js';

/** Ping each child every 5 s (CONTRACT: health checks every 5 s). */
const DEFAULT_PING_INTERVAL_MS = 5_000;
/** Three missed pings in a row mean a hung child: restart it. */
const DEFAULT_MAX_MISSED_PINGS = 3;
/** How many processes a `per-client` child may run at once by default. */
const DEFAULT_MAX_INSTANCES = 64;
/** How long `wait` (used by `omnimind start`) waits for children to settle by default. */
const DEFAULT_WAIT_MS = 60_000;
/** Variables a child must never inherit from the supervisor (systemd's, or omnimind's own). */
const PRIVATE_ENV = /^(LISTEN_FDS|LISTEN_PID|LISTEN_FDNAMES|NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID|OMNIMIND_DAEMON)$/;

/** Hooks into systemd, supplied by the caller when running under it. */
export interface SystemdHooks {
  /** Inherited listening sockets by name (`control` or a child name). */
  sockets: Map<string, number>;
  ready(status: string): void;
  status(text: string): void;
  stopping(): void;
}

/** Everything a supervisor needs to run. */
export interface SupervisorOptions {
  paths: OmnimindPaths;
  config: RawConfig;
  specs: ChildSpec[];
  logger: Logger;
  systemd?: SystemdHooks;
}

type Settled = 'RUNNING' | 'FATAL' | 'STOPPED';

/** The supervisor: owns the sockets, the children, the shared cache and limiter, and the control API. */
export class Supervisor {
  readonly startedAt = new Date();
  readonly #options: SupervisorOptions;
  readonly #children = new Map<string, ManagedChild>();
  readonly #gateways = new Map<string, ChildGateway>();
  /** Children in `per-client` isolation: one process per connection, started on connect. */
  readonly #pools = new Map<string, PerClientGateway<ManagedChild>>();
  /** Profiles: several shared children behind one endpoint each. */
  readonly #profiles = new Map<string, ProfileGateway>();
  readonly #boundPaths: string[] = [];
  #lock: InstanceLock | undefined;
  #control: Server | undefined;
  #stateDb: StateDb | undefined;
  #cache: ResponseCache | undefined;
  #limiter: AdaptiveLimiter | undefined;
  #budget: ConnectionBudget | undefined;
  #telemetry: Telemetry | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  /** Resolves once the supervisor has shut down completely. */
  readonly closed = new Promise<void>((resolve) => {
    this.#resolveClosed = resolve;
  });

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /**
   * Takes the lock, cleans up after a killed predecessor, binds every socket and starts the enabled children. The
   * directories must have been prepared (`preparePrivateDirs`) under the private umask (`usePrivateUmask`).
   */
  async start(): Promise<void> {
    const { paths, config, logger } = this.#options;
    const enabled = this.#options.specs.filter((s) => s.enabled);
    const profiles = resolveProfiles(config);
    assertSocketPathFits(paths.controlSocket);
    for (const { name } of [...enabled, ...profiles]) assertSocketPathFits(childSocketPath(paths, name));

    this.#lock = acquireInstanceLock(paths.runtimeDir);
    if (!this.#lock) {
      throw new OmnimindError('ALREADY_RUNNING', `A supervisor is already running for ${paths.runtimeDir}.`);
    }
    this.#stateDb = new StateDb(paths.stateDb);
    await killOrphans(this.#stateDb.listChildren(), logger);

    this.#cache = new ResponseCache({
      file: paths.cacheDb,
      l1MaxBytes: config.cache?.l1MaxBytes,
      l2MaxBytes: config.cache?.l2MaxBytes,
      ttlSeconds: config.cache?.ttlSeconds,
      logger,
    });
    this.#limiter = new AdaptiveLimiter({ ...config.limiter, childConcurrency: childConcurrency(enabled), logger });
    if (config.metrics?.enabled !== false || config.tracing !== undefined) {
      this.#telemetry = new Telemetry({
        metrics: config.metrics,
        tracing: config.tracing,
        sample: () => this.#fleetSample(),
      });
    }

    const { maxFrameBytes: _, ...limits } = config.gateway ?? {};
    this.#budget = new ConnectionBudget(limits);
    const env = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !PRIVATE_ENV.test(e[0])),
    );
    for (const spec of enabled) this.#addChild(spec, env);
    for (const profile of profiles) this.#addProfile(profile);
    for (const [name, gateway] of [...this.#gateways, ...this.#pools, ...this.#profiles]) {
      await this.#bind(gateway.server, name, childSocketPath(paths, name));
    }
    this.#control = createControlServer(this.#handlers());
    await this.#bind(this.#control, 'control', paths.controlSocket);
    logger.info(`supervisor ${VERSION} started (pid ${process.pid}); ${enabled.length} children`);
    for (const child of this.#children.values()) child.start();
    void this.#notifyWhenSettled();
  }

  #createChild(spec: ChildSpec, env: Record<string, string>): ManagedChild {
    const { config, logger, paths } = this.#options;
    return new ManagedChild(spec, {
      logsDir: paths.logsDir,
      logger,
      log: { maxBytes: config.logs?.maxBytes, keep: config.logs?.keep },
      health: {
        pingIntervalMs: config.health?.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
        maxMissedPings: config.health?.maxMissedPings ?? DEFAULT_MAX_MISSED_PINGS,
      },
      env,
      onRecord: (c) => this.#record(c),
    });
  }

  #addChild(spec: ChildSpec, env: Record<string, string>): void {
    const { config } = this.#options;
    const options = spec.options as {
      cache?: Record<string, unknown>;
      priorities?: Record<string, Priority>;
      compress?: CompressionPolicy;
      isolation?: 'shared' | 'per-client';
      maxInstances?: number;
    };
    const services = {
      limiter: this.#limiter,
      telemetry: this.#telemetry,
      budget: this.#budget,
      maxFrameBytes: config.gateway?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      priorities: { clients: config.limiter?.clients ?? {}, tools: options.priorities ?? {} },
      compression: options.compress,
    };
    if (options.isolation === 'per-client') {
      const pool = new PerClientGateway({
        ...services,
        name: spec.name,
        maxInstances: options.maxInstances ?? DEFAULT_MAX_INSTANCES,
        createInstance: (slot) => this.#createChild({ ...spec, name: `${spec.name}#${slot}` }, env),
      });
      this.#pools.set(spec.name, pool);
      return;
    }
    const child = this.#createChild(spec, env);
    child.on('state', () => this.#systemdStatus());
    this.#children.set(spec.name, child);
    this.#cache?.setPolicy(
      spec.name,
      {
        trusted: spec.builtin,
        ...(options.cache ?? {}),
        statefulTools: spec.name === 'thinking' && spec.builtin ? ['sequentialthinking'] : [],
      },
      childIdentity(spec),
    );
    this.#gateways.set(
      spec.name,
      new ChildGateway(child, {
        ...services,
        cache: this.#cache,
        honoursRoots: honoursClientRoots(spec),
        configuredRoots: configuredRootUris(spec),
      }),
    );
  }

  /** A profile over the shared children it names; a `per-client` child is served on its own endpoint only. */
  #addProfile(spec: ProfileSpec): void {
    const { config, logger } = this.#options;
    const pooled = spec.children.filter((name) => this.#pools.has(name));
    if (pooled.length > 0) {
      logger.info(
        `profile "${spec.name}" leaves out ${pooled.join(', ')}: a per-client child is reached on its own endpoint`,
      );
    }
    const members = spec.children.flatMap((name) => this.#gateways.get(name)?.member ?? []);
    const gateway = new ProfileGateway(
      { name: spec.name, members, tools: spec.tools, logger },
      {
        cache: this.#cache,
        limiter: this.#limiter,
        telemetry: this.#telemetry,
        clientPriorities: config.limiter?.clients ?? {},
      },
      { maxFrameBytes: config.gateway?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, budget: this.#budget },
    );
    this.#profiles.set(spec.name, gateway);
  }

  async #bind(server: Server, name: string, path: string): Promise<void> {
    const fd = this.#options.systemd?.sockets.get(name);
    if (fd !== undefined) return await listenOnFd(server, fd);
    await listenOnPath(server, path);
    this.#boundPaths.push(path);
  }

  #record(child: ManagedChild): void {
    try {
      this.#stateDb?.saveChild({
        name: child.name,
        pid: child.pid,
        pgid: child.pid,
        startTime: child.startTime,
        state: child.state,
        restarts: child.restarts,
        lastExit: child.lastExit,
      });
    } catch (error) {
      this.#options.logger.warn(`cannot record the state of "${child.name}": ${(error as Error).message}`);
    }
  }

  async #notifyWhenSettled(): Promise<void> {
    await this.#settle([...this.#children.keys()], AbortSignal.timeout(DEFAULT_WAIT_MS));
    this.#options.systemd?.ready(this.#summary());
  }

  #summary(): string {
    const counts = new Map<string, number>();
    for (const child of this.#children.values()) counts.set(child.state, (counts.get(child.state) ?? 0) + 1);
    return [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
  }

  #systemdStatus(): void {
    this.#options.systemd?.status(this.#summary());
  }

  /** Child names with each profile among `names` replaced by its children; an unknown name is an error. */
  #expand(names: string[]): string[] {
    const unknown = names.filter((n) => !this.#children.has(n) && !this.#pools.has(n) && !this.#profiles.has(n));
    if (unknown.length > 0) {
      const children = [...this.#children.keys(), ...this.#pools.keys()];
      throw new OmnimindError(
        'UNKNOWN_CHILD',
        `Unknown child or profile ${unknown.map((n) => `"${n}"`).join(', ')}. Children: ${children.join(', ')}; profiles: ${[...this.#profiles.keys()].join(', ')}.`,
      );
    }
    const expanded = names.flatMap((n) => {
      const profile = this.#profiles.get(n);
      return profile ? profile.endpoint.members.map((m) => m.router.link.name) : [n];
    });
    return [...new Set(expanded)];
  }

  /** The shared children among `names` or in the profiles named (all when none are named); unknown names are errors. */
  #named(names: string[] | undefined): ManagedChild[] {
    if (!names || names.length === 0) return [...this.#children.values()];
    return this.#expand(names).flatMap((n) => this.#children.get(n) ?? []);
  }

  /** The per-client children among `names` (all when none are named). */
  #namedPools(names: string[] | undefined): PerClientGateway<ManagedChild>[] {
    if (!names || names.length === 0) return [...this.#pools.values()];
    return this.#expand(names).flatMap((n) => this.#pools.get(n) ?? []);
  }

  /** Waits until each named child is RUNNING, FATAL or STOPPED (or the signal aborts). */
  async #settle(names: string[], signal: AbortSignal): Promise<Settled[]> {
    return await Promise.all(
      this.#named(names).map(async (child) => {
        await waitForRunning(child, signal);
        return child.state as Settled;
      }),
    );
  }

  /** The `status --json` document. */
  status(names?: string[]): StatusReport {
    const { paths } = this.#options;
    const limiter = this.#limiter?.stats();
    const report = (child: ManagedChild, router: ChildRouter, socketName: string): ChildReport => ({
      ...child.snapshot(),
      socket: childSocketPath(paths, socketName),
      clients: router.sessions.size,
      requests: router.stats.requests,
      errors: router.stats.errors,
      inFlight: router.inFlight,
      cacheHits: router.stats.cacheHits,
      queued: limiter?.children[child.name]?.queued ?? 0,
      latencyMs: router.stats.percentiles(),
    });
    const children: ChildReport[] = this.#named(names).map((child) =>
      report(child, this.#gateways.get(child.name)!.router, child.name),
    );
    // A per-client child shows one row per live process, named `<child>#<slot>`.
    for (const [name, pool] of this.#pools) {
      if (!this.#namedPools(names).includes(pool)) continue;
      for (const instance of pool.instances.values()) children.push(report(instance.link, instance.router, name));
    }
    const profiles: ProfileReport[] = [...this.#profiles.values()]
      .filter((profile) => !names || names.length === 0 || names.includes(profile.endpoint.name))
      .map((profile) => ({
        name: profile.endpoint.name,
        socket: childSocketPath(paths, profile.endpoint.name),
        children: profile.endpoint.members.map((m) => m.router.link.name),
        clients: profile.sessions.size,
        uriConflicts: [...profile.endpoint.conflicts],
      }));
    return {
      supervisor: {
        pid: process.pid,
        version: VERSION,
        startedAt: this.startedAt.toISOString(),
        home: paths.home,
        runtimeDir: paths.runtimeDir,
        configFile: paths.configFile,
        systemd: this.#options.systemd !== undefined,
      },
      children,
      profiles,
      cache: this.#cache?.stats() ?? {
        l1: { entries: 0, bytes: 0 },
        l2: { entries: 0, bytes: 0 },
        hits: 0,
        misses: 0,
        hitRate: 0,
      },
      limiter: {
        rps: limiter?.rps ?? 0,
        queued: limiter?.queued ?? 0,
        running: limiter?.running ?? 0,
        shed: limiter?.shed ?? 0,
        timedOut: limiter?.timedOut ?? 0,
      },
    };
  }

  /** The fleet as metrics read it at a scrape: each child's process facts, the clients, the cache and the limiter. */
  #fleetSample(): FleetSample {
    const report = this.status();
    const clients = [...this.#gateways.values(), ...this.#profiles.values()].flatMap((gateway) =>
      [...gateway.sessions].map((session) => ({ endpoint: gateway.endpoint.name, transport: session.transportKind })),
    );
    for (const [name, pool] of this.#pools) {
      for (const instance of pool.instances.values()) {
        clients.push({ endpoint: name, transport: instance.session.transportKind });
      }
    }
    const children = report.children.map((child) => {
      const measured = child as { rssBytes?: number; cpuSeconds?: number };
      if (measured.rssBytes !== undefined && measured.cpuSeconds !== undefined) return child;
      return { ...child, ...(child.pid === null ? {} : readProcUsage(child.pid)) };
    });
    return { children, clients, cache: this.#cache?.stats(), limiter: this.#limiter?.stats() };
  }

  /** The Prometheus text exposition (`omnimind metrics`; the body of `GET /metrics`). */
  async renderMetrics(): Promise<string> {
    const text = await this.#telemetry?.render();
    if (text === undefined) {
      throw new OmnimindError('METRICS_DISABLED', 'Metrics are off: `metrics.enabled` is false in the config.');
    }
    return text;
  }

  #handlers(): ControlHandlers {
    return {
      status: async ({ children }) => this.status(children),
      metrics: async () => ({ text: await this.renderMetrics() }),
      wait: async ({ children, timeoutMs }) => {
        await this.#settle(children ?? [], AbortSignal.timeout(timeoutMs ?? DEFAULT_WAIT_MS));
        return this.status(children);
      },
      start: async ({ children, timeoutMs }) => {
        const targets = this.#named(children);
        for (const child of targets) child.start();
        await this.#settle(children, AbortSignal.timeout(timeoutMs ?? DEFAULT_WAIT_MS));
        return this.status(children);
      },
      restart: async ({ children, timeoutMs }) => {
        const targets = this.#named(children);
        await Promise.all([
          ...targets.map((c) => c.stop(timeoutMs)),
          ...this.#namedPools(children).map((p) => p.disconnectAll()),
        ]);
        for (const child of targets) child.start();
        await this.#settle(children, AbortSignal.timeout(DEFAULT_WAIT_MS));
        return this.status(children);
      },
      stop: async ({ children, timeoutMs }) => {
        if (!children || children.length === 0) {
          setImmediate(() => void this.shutdown(timeoutMs));
          return { stopped: [...this.#children.keys(), ...this.#pools.keys()], supervisor: true };
        }
        const targets = this.#named(children);
        await Promise.all([
          ...targets.map((c) => c.stop(timeoutMs)),
          ...this.#namedPools(children).map((p) => p.disconnectAll()),
        ]);
        return { stopped: children, supervisor: false };
      },
      'cache.clear': async ({ child }) => {
        if (child !== undefined) this.#named([child]);
        return { removed: this.#cache?.clear(child) ?? 0 };
      },
    };
  }

  /** Stops every child and closes every socket, the cache and the state db; idempotent. */
  shutdown(timeoutMs?: number): Promise<void> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs?: number): Promise<void> {
    const { logger } = this.#options;
    logger.info('supervisor stopping');
    this.#options.systemd?.stopping();
    await Promise.all(
      [...this.#profiles.values(), ...this.#gateways.values(), ...this.#pools.values()].map((g) => g.close()),
    );
    await Promise.all([...this.#children.values()].map((c) => c.stop(timeoutMs)));
    this.#cache?.close();
    this.#limiter?.close();
    await this.#telemetry?.shutdown();
    this.#stateDb?.close();
    if (this.#control) await new Promise<void>((resolve) => this.#control?.close(() => resolve()));
    for (const path of this.#boundPaths) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
    this.#lock?.release();
    logger.info('supervisor stopped');
    this.#resolveClosed();
  }
}

function childConcurrency(specs: ChildSpec[]): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const spec of specs) {
    const max = (spec.options as { limits?: { maxConcurrency?: number } }).limits?.maxConcurrency;
    if (max !== undefined) caps[spec.name] = max;
  }
  return caps;
}

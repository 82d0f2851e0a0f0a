import { rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ResponseCache } from '../cache/index.js';
import {
  assertSocketPathFits,
  type ChildSpec,
  childSocketPath,
  loadValidConfig,
  type OmnimindPaths,
  type ProfileSpec,
  type RawConfig,
  redisL2Of,
  resolveChildSpecs,
  resolveProfiles,
  VERSION,
} from '../config/index.js';
import {
  ChildGateway,
  type ChildRouter,
  type ChildState,
  type CompressionPolicy,
  ConnectionBudget,
  isDown,
  type Member,
  PerClientGateway,
  ProfileGateway,
} from '../gateway/index.js';
// The HTTP front (and the SDK transport, jose and the dashboard it brings) is loaded only when `http.listen` is set.
import type { ChildAction, FleetHistory, FleetView, HttpFront } from '../http/index.js';
import { AdaptiveLimiter, type Priority, resolveLimiterOptions } from '../limiter/index.js';
import { type Logger, readLastLines } from '../logs/index.js';
import { type FleetSample, Telemetry } from '../metrics/index.js';
import { DEFAULT_MAX_FRAME_BYTES, OmnimindError } from '../protocol/index.js';
import { childIdentity, configuredRootUris, honoursClientRoots, sharedIdentity } from './child-scope.js';
import type { ChildReport, ProfileReport, ReloadReport, StatusReport } from './control-protocol.js';
import type { ControlHandlers } from './control-server.js';
import { createControlServer } from './control-server.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { type HealthOptions, lifecycleOf, ManagedChild } from './managed-child.js';
import { killOrphans } from './orphans.js';
import { readGroupUsage } from './proc.js';
import { planReload, type ReloadPlan } from './reload-plan.js';
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
/** The dashboard's history: one point every 5 s over the last 15 minutes. */
const HISTORY_INTERVAL_MS = 5_000;
const HISTORY_POINTS = 180;
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
  /** The directory `start` was run in: a reload resolves the children's default roots from it (default: the cwd). */
  cwd?: string;
}

/** The supervisor: owns the sockets, the children, the shared cache and limiter, and the control API. */
export class Supervisor {
  readonly startedAt = new Date();
  readonly #options: SupervisorOptions;
  readonly #cwd: string;
  #config: RawConfig;
  #specs: ChildSpec[];
  #configLoadedAt = new Date();
  /** Shared by every child and gateway, and updated in place by a reload, so new values apply at once. */
  readonly #health: HealthOptions;
  readonly #clientPriorities: Record<string, Priority>;
  #env: Record<string, string> = {};
  #started: Promise<void> | undefined;
  /** The reload under way, if any: reloads run one after the other. */
  #reloading: Promise<unknown> = Promise.resolve();
  readonly #children = new Map<string, ManagedChild>();
  readonly #gateways = new Map<string, ChildGateway>();
  /** Children in `per-client` isolation: one process per connection, started on connect. */
  readonly #pools = new Map<string, PerClientGateway<ManagedChild>>();
  /** Profiles: several shared children behind one endpoint each. */
  readonly #profiles = new Map<string, ProfileGateway>();
  /**
   * The listening socket of each endpoint, owned here rather than by its gateway: a child restarted by a reload gets
   * a new gateway behind the same socket (an inherited systemd socket cannot be bound again once closed).
   */
  readonly #listeners = new Map<string, Server>();
  /** Connections that arrived while their endpoint was being replaced by a reload: served by its new gateway. */
  readonly #held = new Map<string, Socket[]>();
  readonly #boundPaths: string[] = [];
  #lock: InstanceLock | undefined;
  #control: Server | undefined;
  #stateDb: StateDb | undefined;
  #cache: ResponseCache | undefined;
  #limiter: AdaptiveLimiter | undefined;
  #budget: ConnectionBudget | undefined;
  /** The Streamable HTTP front, when `http.listen` is set. */
  #http: HttpFront | undefined;
  #telemetry: Telemetry | undefined;
  /** The last 15 minutes of the fleet's counters, for the dashboard. */
  #history: FleetHistory | undefined;
  #historyTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;
  /** Resolves once the supervisor has shut down completely. */
  readonly closed = new Promise<void>((resolve) => {
    this.#resolveClosed = resolve;
  });

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#cwd = options.cwd ?? process.cwd();
    this.#config = options.config;
    this.#specs = options.specs;
    this.#health = healthOf(options.config);
    this.#clientPriorities = { ...options.config.limiter?.clients };
  }

  /**
   * Takes the lock, cleans up after a killed predecessor, binds every socket and starts the enabled children (an
   * on-demand one waits IDLE). The directories must have been prepared (`preparePrivateDirs`) under the private umask
   * (`usePrivateUmask`).
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { paths, logger } = this.#options;
    const config = this.#config;
    const enabled = this.#specs.filter((s) => s.enabled);
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
      l2: redisL2Of(config),
      ttlSeconds: config.cache?.ttlSeconds,
      logger,
    });
    this.#limiter = new AdaptiveLimiter({ ...config.limiter, childConcurrency: childConcurrency(enabled), logger });
    if (config.metrics?.enabled !== false || config.tracing !== undefined) {
      const tracing = config.tracing;
      this.#telemetry = new Telemetry({
        metrics: config.metrics,
        tracer: tracing === undefined ? undefined : new (await import('../metrics/tracing.js')).RequestTracer(tracing),
        sample: () => this.#fleetSample(),
      });
    }

    const { maxFrameBytes: _, ...limits } = config.gateway ?? {};
    this.#budget = new ConnectionBudget(limits);
    this.#env = Object.fromEntries(
      Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !PRIVATE_ENV.test(e[0])),
    );
    const http = config.http;
    // Loaded before the control socket answers: until start-up is done, a child not yet booted reads as down.
    const httpModule = http?.listen === undefined ? undefined : await import('../http/index.js');
    for (const spec of enabled) this.#addChild(spec);
    for (const profile of profiles) this.#addProfile(profile);
    for (const name of this.#endpointNames()) await this.#listen(name);
    this.#control = createControlServer(this.#handlers());
    await this.#bind(this.#control, 'control', paths.controlSocket);
    if (http?.listen !== undefined && httpModule !== undefined) {
      const front = { ...http, listen: http.listen };
      const { authenticatorFor, credentialCheckFor, FleetHistory, HttpFront, mcpUrl } = httpModule;
      this.#history = new FleetHistory(HISTORY_POINTS);
      this.#http = new HttpFront({
        config: front,
        maxFrameBytes: config.gateway?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        endpoint: (name) => this.#profiles.get(name) ?? this.#gateways.get(name),
        authenticate: authenticatorFor(http, this.#stateDb, mcpUrl(front)),
        budget: this.#budget,
        credentialValid: credentialCheckFor(http, this.#stateDb),
        fleet: this.#fleetView(),
        logger,
      });
      await this.#http.listen();
    }
    logger.info(`supervisor ${VERSION} started (pid ${process.pid}); ${enabled.length} children`);
    for (const child of this.#children.values()) child.boot();
    if (this.#http !== undefined) {
      this.#sampleHistory();
      this.#historyTimer = setInterval(() => this.#sampleHistory(), HISTORY_INTERVAL_MS).unref();
    }
    void this.#notifyWhenSettled();
  }

  #createChild(spec: ChildSpec, isBusy?: () => boolean): ManagedChild {
    const { logger, paths } = this.#options;
    const config = this.#config;
    return new ManagedChild(spec, {
      logsDir: paths.logsDir,
      logger,
      log: { maxBytes: config.logs?.maxBytes, keep: config.logs?.keep },
      health: this.#health,
      env: this.#env,
      onRecord: (c) => this.#record(c),
      isBusy,
    });
  }

  #addChild(spec: ChildSpec): void {
    const config = this.#config;
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
      priorities: { clients: this.#clientPriorities, tools: options.priorities ?? {} },
      compression: options.compress,
    };
    if (options.isolation === 'per-client') {
      const pool = new PerClientGateway({
        ...services,
        name: spec.name,
        maxInstances: options.maxInstances ?? DEFAULT_MAX_INSTANCES,
        createInstance: (slot) => this.#createChild({ ...spec, name: `${spec.name}#${slot}` }),
      });
      this.#pools.set(spec.name, pool);
      return;
    }
    // Busy: a client on the child's own endpoint, or a request in flight (a profile's client counts by its requests:
    // it is attached to every child of the profile, which would keep them all running).
    const child = this.#createChild(spec, () => {
      const gateway = this.#gateways.get(spec.name);
      return gateway !== undefined && (gateway.sessions.size > 0 || gateway.router.inFlight > 0);
    });
    child.on('state', () => this.#systemdStatus());
    this.#children.set(spec.name, child);
    this.#setCachePolicy(spec);
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
    const { logger } = this.#options;
    const config = this.#config;
    const pooled = spec.children.filter((name) => this.#pools.has(name));
    if (pooled.length > 0) {
      logger.info(
        `profile "${spec.name}" leaves out ${pooled.join(', ')}: a per-client child is reached on its own endpoint`,
      );
    }
    const gateway = new ProfileGateway(
      { name: spec.name, members: this.#membersOf(spec), tools: spec.tools, logger },
      {
        cache: this.#cache,
        limiter: this.#limiter,
        telemetry: this.#telemetry,
        clientPriorities: this.#clientPriorities,
      },
      { maxFrameBytes: config.gateway?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, budget: this.#budget },
    );
    this.#profiles.set(spec.name, gateway);
  }

  /** The shared children a profile serves, as its endpoint reaches them. */
  #membersOf(spec: ProfileSpec): Member[] {
    return spec.children.flatMap((name) => this.#gateways.get(name)?.member ?? []);
  }

  #endpointNames(): string[] {
    return [...this.#gateways.keys(), ...this.#pools.keys(), ...this.#profiles.keys()];
  }

  #gatewayOf(name: string): { server: Server } | undefined {
    return this.#gateways.get(name) ?? this.#pools.get(name) ?? this.#profiles.get(name);
  }

  /** Binds the endpoint's socket (once): each connection goes to the endpoint's gateway of the moment. */
  async #listen(name: string): Promise<void> {
    if (this.#listeners.has(name)) return;
    const server = createServer((socket) => {
      const gateway = this.#gatewayOf(name);
      const held = this.#held.get(name);
      if (gateway) gateway.server.emit('connection', socket);
      else if (held) {
        socket.on('error', () => socket.destroy());
        held.push(socket);
      } else socket.destroy();
    });
    server.on('error', () => {});
    await this.#bind(server, name, childSocketPath(this.#options.paths, name));
    this.#listeners.set(name, server);
  }

  /** Hands the connections held during a replacement to the endpoint's new gateway. */
  #release(name: string): void {
    const gateway = this.#gatewayOf(name);
    for (const socket of this.#held.get(name) ?? []) if (!socket.destroyed) gateway?.server.emit('connection', socket);
    this.#held.delete(name);
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

  /**
   * `start`/`restart` of one child: a named child starts now, even an on-demand one; with no names the fleet comes
   * back as configured (eager children start, on-demand ones wait IDLE for their first request).
   */
  #bringUp(child: ManagedChild, names: string[] | undefined): void {
    if (names && names.length > 0) child.start();
    else child.boot();
  }

  /** The per-client children among `names` (all when none are named). */
  #namedPools(names: string[] | undefined): PerClientGateway<ManagedChild>[] {
    if (!names || names.length === 0) return [...this.#pools.values()];
    return this.#expand(names).flatMap((n) => this.#pools.get(n) ?? []);
  }

  /** Waits until start-up is done and each named child is RUNNING, IDLE or down (or the signal aborts). */
  async #settle(names: string[], signal: AbortSignal): Promise<void> {
    // Before start-up boots them, children are STOPPED, which would read as settled.
    await this.#started?.catch(() => {});
    await Promise.all(this.#named(names).map((child) => settled(child, signal)));
  }

  /** The `status --json` document. */
  status(names?: string[]): StatusReport {
    const { paths } = this.#options;
    const limiter = this.#limiter?.stats();
    const report = (child: ManagedChild, router: ChildRouter, socketName: string): ChildReport => ({
      ...child.snapshot(),
      rssBytes: null,
      cpuSeconds: null,
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
    // Each child leads its own process group: one pass over /proc, only when status is asked for.
    const usage = readGroupUsage(children.flatMap((c) => (c.pid === null ? [] : [c.pid])));
    for (const child of children) Object.assign(child, child.pid === null ? {} : usage.get(child.pid));
    const cpu = process.cpuUsage();
    return {
      supervisor: {
        pid: process.pid,
        version: VERSION,
        startedAt: this.startedAt.toISOString(),
        home: paths.home,
        runtimeDir: paths.runtimeDir,
        configFile: paths.configFile,
        configLoadedAt: this.#configLoadedAt.toISOString(),
        systemd: this.#options.systemd !== undefined,
        rssBytes: process.memoryUsage.rss(),
        cpuSeconds: Math.round((cpu.user + cpu.system) / 10_000) / 100,
      },
      children,
      profiles,
      cache: this.#cache?.stats() ?? {
        l1: { entries: 0, bytes: 0 },
        l2: { kind: 'sqlite', entries: 0, bytes: 0 },
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
      ...(this.#http === undefined ? {} : { http: this.#http.report() }),
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
    return { children: report.children, clients, cache: this.#cache?.stats(), limiter: this.#limiter?.stats() };
  }

  /** The Prometheus text exposition (`omnimind metrics`; the body of `GET /metrics`). */
  async renderMetrics(): Promise<string> {
    const text = await this.#telemetry?.render();
    if (text === undefined) {
      throw new OmnimindError('METRICS_DISABLED', 'Metrics are off: `metrics.enabled` is false in the config.');
    }
    return text;
  }

  /** Reads the fleet's cumulative counters into the dashboard's history. */
  #sampleHistory(): void {
    if (this.#history === undefined) return;
    const report = this.status();
    const routers = new Map<string, ChildRouter>();
    for (const [name, gateway] of this.#gateways) routers.set(name, gateway.router);
    for (const pool of this.#pools.values()) {
      for (const instance of pool.instances.values()) routers.set(instance.link.name, instance.router);
    }
    this.#history.record({
      at: Date.now(),
      children: report.children.flatMap((child) => {
        const router = routers.get(child.name);
        return router === undefined ? [] : [{ ...child, buckets: router.stats.buckets() }];
      }),
      cache: report.cache,
      limiter: report.limiter,
    });
  }

  /** The supervisor as the HTTP front's observability paths and dashboard see it. */
  #fleetView(): FleetView {
    const handlers = this.#handlers();
    return {
      status: () => this.status(),
      history: () => ({ intervalMs: HISTORY_INTERVAL_MS, points: this.#history?.points() ?? [] }),
      unready: () =>
        [...this.#children.values()]
          .filter((child) => !lifecycleOf(child.spec).onDemand && child.state !== 'RUNNING')
          .map((child) => ({ name: child.name, state: child.state })),
      renderMetrics: () => this.renderMetrics(),
      logTail: (name, lines) => {
        const instances = [...this.#pools.values()].flatMap((pool) => [...pool.instances.values()]);
        const child = this.#children.get(name) ?? instances.find((i) => i.link.name === name)?.link;
        return child === undefined ? undefined : readLastLines(child.log.path, lines);
      },
      control: async (action: ChildAction, name: string) => {
        await handlers[action]({ children: [name] });
      },
    };
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
        for (const child of targets) this.#bringUp(child, children);
        await this.#settle(children, AbortSignal.timeout(timeoutMs ?? DEFAULT_WAIT_MS));
        return this.status(children);
      },
      restart: async ({ children, timeoutMs }) => {
        const targets = this.#named(children);
        await Promise.all([
          ...targets.map((c) => c.stop(timeoutMs)),
          ...this.#namedPools(children).map((p) => p.disconnectAll()),
        ]);
        for (const child of targets) this.#bringUp(child, children);
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
      reload: async () => await this.reload(),
      'cache.clear': async ({ child }) => {
        if (child !== undefined) this.#named([child]);
        return { removed: this.#cache?.clear(child) ?? 0 };
      },
    };
  }

  /**
   * Re-reads the config file and applies the difference: added children and profiles start and get their sockets,
   * removed ones stop and lose them, changed children restart, the others keep their process and connections. An
   * invalid file changes nothing (CONFIG_INVALID lists every problem). Reloads run one after another, after start-up.
   */
  reload(): Promise<ReloadReport> {
    const run = this.#reloading.catch(() => {}).then(() => this.#reload());
    this.#reloading = run;
    return run;
  }

  async #reload(): Promise<ReloadReport> {
    const { paths, logger } = this.#options;
    if (this.#closing) {
      throw new OmnimindError('SHUTTING_DOWN', 'The supervisor is stopping; the config was not reloaded.');
    }
    if (!this.#started) throw new OmnimindError('NOT_STARTED', 'The supervisor has not started; nothing to reload.');
    await this.#started;
    const config = this.#readConfig();
    const specs = resolveChildSpecs(config, paths, this.#cwd);
    // Options the schema cannot check alone (minRps <= maxRps, …) are checked before anything changes.
    resolveLimiterOptions(config.limiter);
    const profiles = resolveProfiles(config);
    for (const { name } of [...specs.filter((s) => s.enabled), ...profiles]) {
      assertSocketPathFits(childSocketPath(paths, name));
    }
    const plan = planReload({ specs: this.#specs, config: this.#config }, { specs, config });
    this.#config = config;
    this.#specs = specs;
    this.#configLoadedAt = new Date();
    this.#applySettings();
    await this.#apply(plan);
    const report: ReloadReport = {
      configFile: paths.configFile,
      configLoadedAt: this.#configLoadedAt.toISOString(),
      added: plan.added.map((s) => s.name),
      removed: plan.removed,
      changed: plan.changed.map((s) => s.name),
      kept: plan.kept,
      lifecycle: plan.lifecycle.map((s) => s.name),
      profilesAdded: plan.profiles.added.map((p) => p.name),
      profilesRemoved: plan.profiles.removed,
      profilesReplaced: plan.profiles.replaced.map((p) => p.name),
      settings: plan.settings,
      applyAtRestart: plan.applyAtRestart,
    };
    if (this.#options.systemd !== undefined) {
      report.socketUnits = {
        // systemd sets MANAGERPID for services of a user manager only.
        scope: process.env.MANAGERPID === undefined ? 'system' : 'user',
        enable: [...report.added, ...report.profilesAdded],
        disable: [...report.removed, ...report.profilesRemoved],
      };
    }
    logger.info(
      `config reloaded from ${paths.configFile}: added [${report.added}], removed [${report.removed}], restarted [${report.changed}], ${report.kept.length} kept; profiles added [${report.profilesAdded}], removed [${report.profilesRemoved}], replaced [${report.profilesReplaced}]; settings [${report.settings}]`,
    );
    return report;
  }

  /** The config file, validated; an invalid one is refused with every problem and the note that nothing changed. */
  #readConfig(): RawConfig {
    try {
      return loadValidConfig(this.#options.paths.configFile).config;
    } catch (error) {
      if (!(error instanceof OmnimindError)) throw error;
      throw new OmnimindError(
        error.code,
        `${error.message}\nNothing was changed: the supervisor keeps the config loaded at ${this.#configLoadedAt.toISOString()}.`,
      );
    }
  }

  /** How the cache treats a shared child's answers, from its spec and the cache's default time to live. */
  #setCachePolicy(spec: ChildSpec): void {
    const { shared: _, ...cache } = (spec.options as { cache?: Record<string, unknown> }).cache ?? {};
    this.#cache?.setPolicy(
      spec.name,
      {
        trusted: spec.builtin,
        ...cache,
        shareAs: sharedIdentity(spec),
        statefulTools: spec.name === 'thinking' && spec.builtin ? ['sequentialthinking'] : [],
      },
      childIdentity(spec),
    );
  }

  /**
   * Ping timing, log rotation, client priorities, the limiter, the gateway's bounds and the cache's default time to
   * live from the current config, for every child and gateway.
   */
  #applySettings(): void {
    Object.assign(this.#health, healthOf(this.#config));
    for (const key of Object.keys(this.#clientPriorities)) delete this.#clientPriorities[key];
    Object.assign(this.#clientPriorities, this.#config.limiter?.clients);
    const logs = { maxBytes: this.#config.logs?.maxBytes, keep: this.#config.logs?.keep };
    const enabled = this.#specs.filter((spec) => spec.enabled);
    this.#limiter?.reconfigure({ ...this.#config.limiter, childConcurrency: childConcurrency(enabled) });
    const { maxFrameBytes: _, ...limits } = this.#config.gateway ?? {};
    this.#budget?.reconfigure(limits);
    this.#cache?.setDefaultTtl(this.#config.cache?.ttlSeconds);
    for (const spec of enabled) if (this.#children.has(spec.name)) this.#setCachePolicy(spec);
    for (const child of this.#children.values()) child.log.reconfigure(logs);
    for (const pool of this.#pools.values()) {
      for (const instance of pool.instances.values()) instance.link.log.reconfigure(logs);
    }
  }

  async #apply(plan: ReloadPlan): Promise<void> {
    const { profiles } = plan;
    // Profiles first let go of what leaves, so no profile client is sent to a child being stopped.
    await Promise.all([
      ...profiles.removed.map((name) => this.#removeEndpoint(name, false)),
      ...profiles.replaced.map((p) => this.#removeEndpoint(p.name, true)),
    ]);
    for (const profile of profiles.kept) {
      const gateway = this.#profiles.get(profile.name);
      const members = profile.children.flatMap((name) => {
        const member = this.#gateways.get(name)?.member;
        return member && !plan.removed.includes(name) && !plan.changed.some((s) => s.name === name) ? [member] : [];
      });
      if (gateway && !sameMembers(gateway.endpoint.members, members)) gateway.setMembers(members);
    }
    await Promise.all([
      ...plan.removed.map((name) => this.#removeEndpoint(name, false)),
      ...plan.changed.map((spec) => this.#removeEndpoint(spec.name, true)),
    ]);
    for (const spec of [...plan.changed, ...plan.added]) {
      this.#addChild(spec);
      await this.#listen(spec.name);
      this.#children.get(spec.name)?.boot();
      this.#release(spec.name);
    }
    for (const spec of plan.lifecycle) this.#children.get(spec.name)?.updateLifecycle(spec);
    for (const profile of [...profiles.replaced, ...profiles.added]) {
      this.#addProfile(profile);
      await this.#listen(profile.name);
      this.#release(profile.name);
    }
    for (const profile of profiles.kept) {
      const gateway = this.#profiles.get(profile.name);
      const members = this.#membersOf(profile);
      if (gateway && !sameMembers(gateway.endpoint.members, members)) gateway.setMembers(members);
    }
  }

  /**
   * Stops a child (what it had in flight gets -32011) or closes a profile, and disconnects the clients; then removes
   * the socket, unless the endpoint is about to be replaced behind it.
   */
  async #removeEndpoint(name: string, keepSocket: boolean): Promise<void> {
    const child = this.#children.get(name);
    const gateway = this.#gateways.get(name) ?? this.#pools.get(name) ?? this.#profiles.get(name);
    if (keepSocket) this.#held.set(name, []);
    this.#children.delete(name);
    this.#gateways.delete(name);
    this.#pools.delete(name);
    this.#profiles.delete(name);
    await child?.stop();
    await gateway?.close();
    if (keepSocket) return;
    const listener = this.#listeners.get(name);
    this.#listeners.delete(name);
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
    const path = childSocketPath(this.#options.paths, name);
    const bound = this.#boundPaths.indexOf(path);
    if (bound === -1) return;
    this.#boundPaths.splice(bound, 1);
    rmSync(path, { force: true });
  }

  /** Stops every child and closes every socket, the cache and the state db; idempotent. */
  shutdown(timeoutMs?: number): Promise<void> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs?: number): Promise<void> {
    const { logger } = this.#options;
    logger.info('supervisor stopping');
    await this.#reloading.catch(() => {});
    this.#options.systemd?.stopping();
    clearInterval(this.#historyTimer);
    await this.#http?.close();
    await Promise.all(
      [...this.#profiles.values(), ...this.#gateways.values(), ...this.#pools.values()].map((g) => g.close()),
    );
    await Promise.all(
      [...this.#listeners.values()].map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
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

/** The health-check settings of a config, with defaults. */
function healthOf(config: RawConfig): HealthOptions {
  return {
    pingIntervalMs: config.health?.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    maxMissedPings: config.health?.maxMissedPings ?? DEFAULT_MAX_MISSED_PINGS,
  };
}

/** Whether two member lists are the same members in the same order. */
function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  return a.length === b.length && a.every((member, i) => member === b[i]);
}

/** Resolves once the child is RUNNING, IDLE or down (what `omnimind start` waits for), or the signal aborts. */
function settled(child: ManagedChild, signal: AbortSignal): Promise<void> {
  const done = (state: ChildState) => state === 'RUNNING' || state === 'IDLE' || isDown(state);
  if (done(child.state) || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onState = (state: ChildState) => {
      if (done(state)) finish();
    };
    const finish = () => {
      child.off('state', onState);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    child.on('state', onState);
    signal.addEventListener('abort', finish, { once: true });
  });
}

function childConcurrency(specs: ChildSpec[]): Record<string, number> {
  const caps: Record<string, number> = {};
  for (const spec of specs) {
    const max = (spec.options as { limits?: { maxConcurrency?: number } }).limits?.maxConcurrency;
    if (max !== undefined) caps[spec.name] = max;
  }
  return caps;
}

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { type Clock, realClock, sleep, timeoutSignal } from '../clock/index.js';
import type { ChildSpec } from '../config/index.js';
import type { ChildLink, ToolSummary } from '../gateway/index.js';
import { type Logger, RotatingLogFile, type RotatingLogFileOptions } from '../logs/index.js';
import {
  classifyMessage,
  createLineReader,
  ErrorCode,
  encodeFrame,
  errorResponse,
  flushCoalesced,
  isJsonText,
  LineSplitter,
  scanResult,
  writeCoalesced,
} from '../protocol/index.js';
import { withUserUmask } from './private-umask.js';
import { readProcIdentity, signalGroup } from './proc.js';
import { RestartPolicy } from './restart-policy.js';
import type { ChildState, ExitReason, ExitRecord } from './types.js';

/** A child may print frames this large on stdout (big tool results); larger ones are dropped and logged. */
const CHILD_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Grandchildren left in a group after its leader exited get this long to exit on SIGTERM before SIGKILL. */
const LEFTOVER_GRACE_MS = 1_000;
/** At most this many tools/list pages are read at start (a runaway cursor must not stall RUNNING). */
const MAX_TOOL_PAGES = 20;
/** The id prefix of the supervisor's own requests to a child; the gateway uses numeric ids, so they never collide. */
const INTERNAL_ID_PREFIX = 'omnimind:';
/**
 * A spawn that failed for lack of descriptors (or processes) says nothing about the child: it is retried this often,
 * never counted as a failed start, until descriptors are free again.
 */
const RESOURCE_RETRY_MS = 1_000;
/** The spawn errors that mean the supervisor or the machine is short of descriptors or processes, not a bad command. */
const RESOURCE_SHORTAGE = new Set(['EMFILE', 'ENFILE', 'EAGAIN']);
/** A child with `idleStopSeconds` looks this often (at most) for clients and requests: a 1 s error on minutes. */
const IDLE_CHECK_MS = 1_000;
/** How often a stopped group is polled for leftover grandchildren. */
const REAP_POLL_MS = 20;

/** How a child is started and when it is stopped for lack of use (CONTRACT.md, "Child states"). */
export interface Lifecycle {
  /** `"start": "on-demand"`: IDLE until the first request. */
  onDemand: boolean;
  /** `"idleStopSeconds"` in ms: stopped (back to IDLE) after this long without clients or requests; 0 = never. */
  idleStopMs: number;
}

/** The lifecycle a spec asks for. */
export function lifecycleOf(spec: ChildSpec): Lifecycle {
  const { start, idleStopSeconds } = spec.options as { start?: unknown; idleStopSeconds?: unknown };
  return {
    onDemand: start === 'on-demand',
    idleStopMs: typeof idleStopSeconds === 'number' ? idleStopSeconds * 1000 : 0,
  };
}

/** How a child's liveness is checked once RUNNING. */
export interface HealthOptions {
  pingIntervalMs: number;
  maxMissedPings: number;
}

/** Options of a ManagedChild. */
export interface ManagedChildOptions {
  logsDir: string;
  logger: Logger;
  log?: RotatingLogFileOptions;
  health: HealthOptions;
  env: Record<string, string>;
  /** Called whenever the process or state changes, to persist it. */
  onRecord?: (child: ManagedChild) => void;
  /** Whether the child has clients or requests now (an idle stop never happens while it does). */
  isBusy?: () => boolean;
  /** Time for backoff, handshake and stop timeouts, pings and idle stop (default: the real clock). */
  clock?: Clock;
}

/** One child as `status --json` shows it. */
export interface ChildStatus {
  name: string;
  state: ChildState;
  pid: number | null;
  restarts: number;
  startedAt: string | null;
  lastExit: ExitRecord | null;
  builtin: boolean;
  logFile: string;
  logError: string | null;
}

type PendingInternal = { resolve: (message: Record<string, unknown>) => void };

/**
 * One supervised MCP server process: spawns it in its own process group, performs the MCP handshake,
 * restarts it with backoff, marks it FATAL in a crash loop, pings it, and stops it by escalation. An on-demand child
 * waits IDLE until `demand()`; a child with an idle timeout goes back to IDLE when nobody uses it.
 */
export class ManagedChild extends EventEmitter implements ChildLink {
  spec: ChildSpec;
  readonly log: RotatingLogFile;
  state: ChildState = 'STOPPED';
  restarts = 0;
  pid: number | null = null;
  startTime: number | null = null;
  startedAt: Date | null = null;
  lastExit: ExitRecord | null = null;
  initializeResult: Record<string, unknown> | undefined;
  tools: ToolSummary[] = [];
  readonly #options: ManagedChildOptions;
  readonly #clock: Clock;
  readonly #policy: RestartPolicy;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #generation = 0;
  #internalSeq = 0;
  #internal = new Map<string, PendingInternal>();
  #backoffTimer: unknown;
  #pingTimer: unknown;
  #idleTimer: unknown;
  /** When the child was last seen without clients or requests (monotonic), while RUNNING with an idle timeout. */
  #quietSince: number | undefined;
  /** Monotonic time the child became RUNNING. */
  #runningSince = 0;
  /** The current start was asked by a request: if it fails, the child goes back to IDLE and the requests are told. */
  #startOnDemand = false;
  /** A start was asked while the process of an idle stop was still exiting. */
  #demanded = false;
  /** Set while a stop is under way: the state the exit leads to. */
  #stopTarget: 'STOPPED' | 'IDLE' | undefined;
  #missedPings = 0;
  #pingOutstanding = false;
  #killReason: ExitReason | undefined;
  #killMessage: string | undefined;
  #reaped: Promise<void> = Promise.resolve();

  constructor(spec: ChildSpec, options: ManagedChildOptions) {
    super();
    this.spec = spec;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#policy = new RestartPolicy(this.#clock);
    this.log = new RotatingLogFile(join(options.logsDir, `${spec.name}.log`), options.log);
  }

  get name(): string {
    return this.spec.name;
  }

  /**
   * Brings the child up as configured from STOPPED or FATAL: an eager one starts, an on-demand one waits IDLE for its
   * first request.
   */
  boot(): void {
    if (this.state !== 'STOPPED' && this.state !== 'FATAL') return;
    if (!lifecycleOf(this.spec).onDemand) return this.start();
    this.#policy.reset();
    this.#setState('IDLE');
  }

  /** Starts the child now from STOPPED, IDLE or FATAL (which it clears); a no-op in any other state. */
  start(): void {
    if (this.state !== 'STOPPED' && this.state !== 'FATAL' && this.state !== 'IDLE') return;
    this.#policy.reset();
    if (this.#process !== undefined) {
      this.#demanded = true;
      return;
    }
    this.#startOnDemand = false;
    this.#spawn();
  }

  /** A request arrived for an IDLE child: start it (once the process of an idle stop is gone). */
  demand(): void {
    if (this.state !== 'IDLE') return;
    if (this.#process !== undefined) {
      this.#demanded = true;
      return;
    }
    this.#startOnDemand = true;
    this.#spawn();
  }

  /** Takes a spec that differs from the current one only in `start` and `idleStopSeconds` (a reload). */
  updateLifecycle(spec: ChildSpec): void {
    this.spec = spec;
    if (this.state === 'RUNNING') this.#armIdleStop(this.#generation);
    if (this.state === 'IDLE' && !lifecycleOf(spec).onDemand) this.start();
  }

  #setState(state: ChildState, reason?: string): void {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this.#options.onRecord?.(this);
    this.emit('state', state, previous, reason);
  }

  /** Wall-clock ISO time, for timestamps people read. */
  #stamp(): string {
    return new Date(this.#clock.wallNow()).toISOString();
  }

  #spawn(): void {
    const generation = ++this.#generation;
    this.#killReason = undefined;
    this.#killMessage = undefined;
    this.initializeResult = undefined;
    this.#setState('STARTING');
    let subprocess: ChildProcess;
    try {
      // node:child_process, not execa: out of descriptors, execa 9 throws a TypeError of its own and leaves the
      // EMFILE error unhandled, while node reports it as an 'error' event carrying the code.
      subprocess = withUserUmask(() =>
        spawn(this.spec.command, this.spec.args, {
          cwd: this.spec.cwd,
          env: { ...this.#options.env, ...this.spec.env },
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      );
    } catch (error) {
      this.#onSpawnFailed(generation, error as NodeJS.ErrnoException);
      return;
    }
    this.#process = subprocess;
    this.pid = subprocess.pid ?? null;
    this.startTime = this.pid === null ? null : (readProcIdentity(this.pid)?.startTime ?? null);
    this.#options.onRecord?.(this);
    let exitResolve!: () => void;
    this.#exited = new Promise((resolve) => {
      exitResolve = resolve;
    });
    let spawnError: string | undefined;
    subprocess.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.message;
      if (subprocess.pid === undefined) {
        exitResolve();
        this.#onSpawnFailed(generation, error);
      }
    });
    subprocess.on('exit', (code, signal) => {
      exitResolve();
      this.#onExit(generation, code, signal, undefined, spawnError);
    });
    subprocess.stdin?.on('error', () => {});
    const splitter = new LineSplitter(
      {
        onFrame: (frame) => this.#onFrame(generation, frame),
        onOversize: (limit) =>
          this.#options.logger.error(`child "${this.name}" sent a frame over ${limit} bytes; dropped`),
      },
      CHILD_MAX_FRAME_BYTES,
    );
    subprocess.stdout?.on('data', (chunk: Buffer) => splitter.push(chunk));
    subprocess.stdout?.on('error', () => {});
    const writeLine = createLineReader((line) => this.log.write(`${this.#stamp()} ${line}\n`));
    subprocess.stderr?.on('data', (chunk: Buffer) => writeLine(chunk));
    subprocess.stderr?.on('error', () => {});
    if (this.pid !== null) void this.#handshake(generation);
  }

  async #handshake(generation: number): Promise<void> {
    const timeout = timeoutSignal(this.#clock, this.spec.startTimeoutMs);
    try {
      const init = await this.#request(
        'initialize',
        {
          protocolVersion: LATEST_PROTOCOL_VERSION,
          capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: {} },
          clientInfo: { name: 'omnimind', version: '0.1.0' },
        },
        timeout,
      );
      if (generation !== this.#generation) return;
      if (init.error || typeof init.result !== 'object' || init.result === null) {
        throw new Error(`initialize failed: ${JSON.stringify(init.error ?? init.result)}`);
      }
      this.initializeResult = init.result as Record<string, unknown>;
      this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.tools = (this.initializeResult.capabilities as Record<string, unknown> | undefined)?.tools
        ? await this.#listTools(timeout)
        : [];
      if (generation !== this.#generation) return;
      this.startedAt = new Date(this.#clock.wallNow());
      this.#runningSince = this.#clock.now();
      this.#missedPings = 0;
      this.#pingOutstanding = false;
      this.#startOnDemand = false;
      this.#setState('RUNNING');
      this.#schedulePing(generation);
      this.#armIdleStop(generation);
      this.#options.logger.info(`child "${this.name}" is RUNNING (pid ${this.pid})`);
    } catch (error) {
      if (generation !== this.#generation || this.state !== 'STARTING') return;
      const reason: ExitReason = timeout.aborted ? 'timeout' : 'crashed';
      const message = timeout.aborted
        ? `did not answer initialize within ${this.spec.startTimeoutMs} ms`
        : (error as Error).message;
      this.#options.logger.warn(`child "${this.name}" failed to start: ${message}`);
      this.#kill(reason, message);
    }
  }

  async #listTools(signal: AbortSignal): Promise<ToolSummary[]> {
    const tools: ToolSummary[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const response = await this.#request('tools/list', cursor ? { cursor } : {}, signal);
      const result = response.result as { tools?: ToolSummary[]; nextCursor?: string } | undefined;
      if (!result?.tools) break;
      tools.push(...result.tools.map((t) => ({ name: t.name, annotations: t.annotations })));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return tools;
  }

  #request(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const id = `${INTERNAL_ID_PREFIX}${++this.#internalSeq}`;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#internal.delete(id);
        reject(new Error(`${method} timed out`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#internal.set(id, {
        resolve: (message) => {
          signal.removeEventListener('abort', onAbort);
          resolve(message);
        },
      });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  #onFrame(generation: number, frame: string): void {
    if (generation !== this.#generation) return;
    // A result for a gateway request, the bulk of the traffic, is passed on as written: only its id is read, and the
    // result is checked to be JSON (never re-encoded), so a client is never sent text it cannot parse.
    const answer = scanResult(frame);
    if (answer !== undefined) {
      if (isJsonText(answer.json)) {
        this.emit('result', answer.id, answer.json);
        return;
      }
      this.log.write(`${this.#stamp()} [omnimind] answer that is not JSON on stdout: ${frame.slice(0, 200)}\n`);
      const reason = `child "${this.name}" answered with a result that is not valid JSON`;
      this.emit('message', errorResponse(answer.id, ErrorCode.InternalError, reason));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(frame);
    } catch {
      this.log.write(`${this.#stamp()} [omnimind] non-JSON line on stdout: ${frame.slice(0, 200)}\n`);
      return;
    }
    const classified = classifyMessage(value);
    if (classified.kind === 'invalid') {
      this.log.write(`${this.#stamp()} [omnimind] invalid JSON-RPC on stdout: ${classified.reason}\n`);
      return;
    }
    const message = value as Record<string, unknown>;
    if (classified.kind === 'response' && typeof message.id === 'string' && message.id.startsWith(INTERNAL_ID_PREFIX)) {
      const pending = this.#internal.get(message.id);
      this.#internal.delete(message.id);
      pending?.resolve(message);
      return;
    }
    if (message.method === 'notifications/tools/list_changed' && this.state === 'RUNNING')
      void this.#refreshTools(generation);
    if (classified.kind === 'request' && message.method === 'ping') {
      this.send({ jsonrpc: '2.0', id: message.id, result: {} });
      return;
    }
    this.emit('message', message);
  }

  async #refreshTools(generation: number): Promise<void> {
    try {
      const tools = await this.#listTools(timeoutSignal(this.#clock, this.spec.startTimeoutMs));
      if (generation !== this.#generation) return;
      this.tools = tools;
      this.emit('tools', tools);
    } catch (error) {
      this.#options.logger.warn(`cannot re-list the tools of "${this.name}": ${(error as Error).message}`);
    }
  }

  #schedulePing(generation: number): void {
    this.#pingTimer = this.#clock.setTimeout(() => {
      if (generation !== this.#generation || this.state !== 'RUNNING') return;
      if (this.#pingOutstanding) this.#missedPings++;
      if (this.#missedPings >= this.#options.health.maxMissedPings) {
        this.#options.logger.warn(`child "${this.name}" missed ${this.#missedPings} pings; restarting it`);
        this.#kill('unresponsive', `missed ${this.#missedPings} pings in a row`);
        return;
      }
      this.#pingOutstanding = true;
      this.#request('ping', {}, timeoutSignal(this.#clock, this.#options.health.pingIntervalMs * 4)).then(
        () => {
          this.#pingOutstanding = false;
          this.#missedPings = 0;
        },
        () => {},
      );
      this.#schedulePing(generation);
    }, this.#options.health.pingIntervalMs);
  }

  /**
   * Stops a RUNNING child once it has had no clients and no requests for `idleStopSeconds`, measured from the first
   * check that found it quiet (so it is never less than that); the child goes back to IDLE.
   */
  #armIdleStop(generation: number): void {
    this.#clock.clearTimeout(this.#idleTimer);
    const { idleStopMs } = lifecycleOf(this.spec);
    if (idleStopMs <= 0) return;
    this.#quietSince = undefined;
    const interval = Math.min(IDLE_CHECK_MS, idleStopMs);
    const check = () => {
      if (generation !== this.#generation || this.state !== 'RUNNING') return;
      const now = this.#clock.now();
      if (this.#options.isBusy?.()) this.#quietSince = undefined;
      else if (this.#quietSince === undefined) this.#quietSince = now;
      else if (now - this.#quietSince >= idleStopMs) return this.#idleStop(idleStopMs);
      this.#idleTimer = this.#clock.setTimeout(check, interval);
    };
    check();
  }

  #idleStop(idleStopMs: number): void {
    this.#options.logger.info(
      `child "${this.name}" had no clients or requests for ${idleStopMs / 1000} s; stopped until the next request (IDLE)`,
    );
    void this.#stopProcess('IDLE', this.spec.stopTimeoutMs);
  }

  /** Writes one message to the child's stdin (coalesced with the others of this turn); false if there is no live process. */
  send(message: unknown): boolean {
    const stdin = this.#process?.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    writeCoalesced(stdin, typeof message === 'string' ? message : encodeFrame(message));
    return true;
  }

  #kill(reason: ExitReason, message: string): void {
    this.#killReason = reason;
    this.#killMessage = message;
    if (this.pid !== null) signalGroup(this.pid, 'SIGKILL');
  }

  /** A process that never started: a bad command is a failed start; a shortage of descriptors is retried uncounted. */
  #onSpawnFailed(generation: number, error: NodeJS.ErrnoException): void {
    const shortage = error.code !== undefined && RESOURCE_SHORTAGE.has(error.code);
    this.#onExit(generation, null, null, 'spawn-failed', error.message, shortage);
  }

  #onExit(
    generation: number,
    code: number | null,
    signal: string | null,
    reason?: ExitReason,
    spawnMessage?: string,
    shortage = false,
  ): void {
    if (generation !== this.#generation) return;
    this.#clock.clearTimeout(this.#pingTimer);
    this.#clock.clearTimeout(this.#idleTimer);
    for (const pending of this.#internal.values())
      pending.resolve({ error: { code: -32011, message: 'child exited' } });
    this.#internal.clear();
    const pgid = this.pid;
    if (pgid !== null) this.#reaped = this.#reapGroup(pgid);
    const stopTarget = this.#stopTarget;
    const stopping = stopTarget !== undefined;
    const wasStarting = this.state === 'STARTING';
    const exitReason: ExitReason =
      reason ?? this.#killReason ?? (stopping ? 'stopped' : signal === 'SIGKILL' ? 'killed' : 'crashed');
    const message = spawnMessage ?? this.#killMessage ?? (stopping ? undefined : describeExit(code, signal));
    this.lastExit = { code, signal, reason: exitReason, at: this.#stamp(), ...(message ? { message } : {}) };
    const ranMs = this.state === 'RUNNING' ? this.#clock.now() - this.#runningSince : 0;
    this.pid = null;
    this.startTime = null;
    this.#process = undefined;
    this.startedAt = null;
    if (stopping) {
      this.#stopTarget = undefined;
      this.#setState(stopTarget);
      if (stopTarget === 'IDLE' && this.#demanded) {
        this.#demanded = false;
        this.#startOnDemand = true;
        this.#spawn();
      }
      return;
    }
    this.#options.logger.warn(
      `child "${this.name}" exited (${exitReason}, code ${code ?? '-'}, signal ${signal ?? '-'})${message ? `: ${message}` : ''}`,
    );
    this.#setState('EXITED');
    if (shortage) {
      this.#options.logger.warn(
        `child "${this.name}" could not be spawned for lack of descriptors; retrying in ${RESOURCE_RETRY_MS} ms (not counted as a failed start)`,
      );
      return this.#retryAfter(RESOURCE_RETRY_MS, false);
    }
    const decision = this.#policy.recordExit(ranMs);
    if (decision.action === 'fatal') {
      this.#startOnDemand = false;
      this.#options.logger.error(
        `child "${this.name}" failed ${decision.failures} times within 60 s and is FATAL; run \`omnimind start ${this.name}\` after fixing it`,
      );
      this.#setState('FATAL');
      return;
    }
    if (this.#startOnDemand && wasStarting) {
      // A start asked by requests failed: they are told why, and the next request tries again (FATAL rules hold).
      this.#startOnDemand = false;
      this.#options.logger.warn(`child "${this.name}" failed to start on demand; IDLE until the next request`);
      this.#setState('IDLE', message ?? exitReason);
      return;
    }
    this.#options.logger.info(`child "${this.name}" restarting in ${decision.delayMs} ms`);
    // A process that never ran (its command is missing) is not restarted: RESTARTS counts processes that ran.
    this.#retryAfter(decision.delayMs, pgid !== null);
  }

  #retryAfter(delayMs: number, countsAsRestart: boolean): void {
    this.#setState('BACKOFF');
    this.#backoffTimer = this.#clock.setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.state !== 'BACKOFF') return;
      if (countsAsRestart) this.restarts++;
      this.#spawn();
    }, delayMs);
  }

  async #reapGroup(pgid: number): Promise<void> {
    if (!signalGroup(pgid, 'SIGTERM')) return;
    for (let waited = 0; waited < LEFTOVER_GRACE_MS && signalGroup(pgid, 0); waited += REAP_POLL_MS) {
      await sleep(this.#clock, REAP_POLL_MS);
    }
    signalGroup(pgid, 'SIGKILL');
  }

  /** Stops the child: close stdin, then SIGTERM to its group at half the timeout, SIGKILL at the full timeout. */
  async stop(timeoutMs: number = this.spec.stopTimeoutMs): Promise<void> {
    this.#demanded = false;
    this.#clock.clearTimeout(this.#backoffTimer);
    if (this.state === 'STOPPED') return;
    if (this.#process === undefined || this.pid === null) {
      this.#clock.clearTimeout(this.#pingTimer);
      this.#clock.clearTimeout(this.#idleTimer);
      this.#generation++;
      this.pid = null;
      this.#setState('STOPPED');
      return;
    }
    await this.#stopProcess('STOPPED', timeoutMs);
  }

  /** Ends the live process by escalation; its exit leads to `target` (IDLE is entered at once, so requests wait). */
  async #stopProcess(target: 'STOPPED' | 'IDLE', timeoutMs: number): Promise<void> {
    this.#clock.clearTimeout(this.#pingTimer);
    this.#clock.clearTimeout(this.#idleTimer);
    const pgid = this.pid;
    if (this.#process === undefined || pgid === null) return;
    this.#stopTarget = target;
    this.#setState(target === 'IDLE' ? 'IDLE' : 'STOPPING');
    const exited = this.#exited;
    const stdin = this.#process.stdin;
    if (stdin) {
      flushCoalesced(stdin);
      stdin.end();
    }
    const half = Math.max(1, Math.floor(timeoutMs / 2));
    if (!(await this.#settlesWithin(exited, half))) {
      signalGroup(pgid, 'SIGTERM');
      if (!(await this.#settlesWithin(exited, timeoutMs - half))) signalGroup(pgid, 'SIGKILL');
    }
    await exited;
    await this.#reaped;
  }

  /** Whether `promise` settles within `ms` on the child's clock. */
  async #settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
    const controller = new AbortController();
    const settled = await Promise.race([
      promise.then(() => true),
      sleep(this.#clock, ms, controller.signal).then(() => false),
    ]);
    controller.abort();
    return settled;
  }

  /** The child as `status --json` shows it (gateway counters are merged in by the supervisor). */
  snapshot(): ChildStatus {
    return {
      name: this.name,
      state: this.state,
      pid: this.pid,
      restarts: this.restarts,
      startedAt: this.startedAt?.toISOString() ?? null,
      lastExit: this.lastExit,
      builtin: this.spec.builtin,
      logFile: this.log.path,
      logError: this.log.lastError ?? null,
    };
  }
}

/** Why a process ended, in words, for `lastExit.message`. */
function describeExit(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code ?? '-'}`;
}

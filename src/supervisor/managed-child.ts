import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { ChildSpec } from '../config/index.js';
import type { ChildLink, ToolSummary } from '../gateway/index.js';
import { type Logger, RotatingLogFile, type RotatingLogFileOptions } from '../logs/index.js';
import { classifyMessage, createLineReader, encodeFrame, LineSplitter, writeCoalesced } from '../protocol/index.js';
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
 * restarts it with backoff, marks it FATAL in a crash loop, pings it, and stops it by escalation.
 */
export class ManagedChild extends EventEmitter implements ChildLink {
  readonly spec: ChildSpec;
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
  readonly #policy = new RestartPolicy();
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #generation = 0;
  #internalSeq = 0;
  #internal = new Map<string, PendingInternal>();
  #backoffTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #missedPings = 0;
  #pingOutstanding = false;
  #killReason: ExitReason | undefined;
  #killMessage: string | undefined;
  #reaped: Promise<void> = Promise.resolve();

  constructor(spec: ChildSpec, options: ManagedChildOptions) {
    super();
    this.spec = spec;
    this.#options = options;
    this.log = new RotatingLogFile(join(options.logsDir, `${spec.name}.log`), options.log);
  }

  get name(): string {
    return this.spec.name;
  }

  /** Starts the child from STOPPED or FATAL (which it clears); a no-op in any other state. */
  start(): void {
    if (this.state !== 'STOPPED' && this.state !== 'FATAL') return;
    this.#policy.reset();
    this.#spawn();
  }

  #setState(state: ChildState): void {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this.#options.onRecord?.(this);
    this.emit('state', state, previous);
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
    const writeLine = createLineReader((line) => this.log.write(`${new Date().toISOString()} ${line}\n`));
    subprocess.stderr?.on('data', (chunk: Buffer) => writeLine(chunk));
    subprocess.stderr?.on('error', () => {});
    if (this.pid !== null) void this.#handshake(generation);
  }

  async #handshake(generation: number): Promise<void> {
    const timeout = AbortSignal.timeout(this.spec.startTimeoutMs);
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
      this.startedAt = new Date();
      this.#missedPings = 0;
      this.#pingOutstanding = false;
      this.#setState('RUNNING');
      this.#schedulePing(generation);
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
    let value: unknown;
    try {
      value = JSON.parse(frame);
    } catch {
      this.log.write(`${new Date().toISOString()} [omnimind] non-JSON line on stdout: ${frame.slice(0, 200)}\n`);
      return;
    }
    const classified = classifyMessage(value);
    if (classified.kind === 'invalid') {
      this.log.write(`${new Date().toISOString()} [omnimind] invalid JSON-RPC on stdout: ${classified.reason}\n`);
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
      const tools = await this.#listTools(AbortSignal.timeout(this.spec.startTimeoutMs));
      if (generation !== this.#generation) return;
      this.tools = tools;
      this.emit('tools', tools);
    } catch (error) {
      this.#options.logger.warn(`cannot re-list the tools of "${this.name}": ${(error as Error).message}`);
    }
  }

  #schedulePing(generation: number): void {
    this.#pingTimer = setTimeout(() => {
      if (generation !== this.#generation || this.state !== 'RUNNING') return;
      if (this.#pingOutstanding) this.#missedPings++;
      if (this.#missedPings >= this.#options.health.maxMissedPings) {
        this.#options.logger.warn(`child "${this.name}" missed ${this.#missedPings} pings; restarting it`);
        this.#kill('unresponsive', `missed ${this.#missedPings} pings in a row`);
        return;
      }
      this.#pingOutstanding = true;
      this.#request('ping', {}, AbortSignal.timeout(this.#options.health.pingIntervalMs * 4)).then(
        () => {
          this.#pingOutstanding = false;
          this.#missedPings = 0;
        },
        () => {},
      );
      this.#schedulePing(generation);
    }, this.#options.health.pingIntervalMs);
    this.#pingTimer.unref();
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
    clearTimeout(this.#pingTimer);
    for (const pending of this.#internal.values())
      pending.resolve({ error: { code: -32011, message: 'child exited' } });
    this.#internal.clear();
    const pgid = this.pid;
    if (pgid !== null) this.#reaped = this.#reapGroup(pgid);
    const stopping = this.state === 'STOPPING';
    const exitReason: ExitReason =
      reason ?? this.#killReason ?? (stopping ? 'stopped' : signal === 'SIGKILL' ? 'killed' : 'crashed');
    const message = spawnMessage ?? this.#killMessage ?? (stopping ? undefined : describeExit(code, signal));
    this.lastExit = { code, signal, reason: exitReason, at: new Date().toISOString(), ...(message ? { message } : {}) };
    const ranMs = this.state === 'RUNNING' && this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    this.pid = null;
    this.startTime = null;
    this.#process = undefined;
    this.startedAt = null;
    if (stopping) {
      this.#setState('STOPPED');
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
    const decision = this.#policy.recordExit(Date.now(), ranMs);
    if (decision.action === 'fatal') {
      this.#options.logger.error(
        `child "${this.name}" failed ${decision.failures} times within 60 s and is FATAL; run \`omnimind start ${this.name}\` after fixing it`,
      );
      this.#setState('FATAL');
      return;
    }
    this.#options.logger.info(`child "${this.name}" restarting in ${decision.delayMs} ms`);
    // A process that never ran (its command is missing) is not restarted: RESTARTS counts processes that ran.
    this.#retryAfter(decision.delayMs, pgid !== null);
  }

  #retryAfter(delayMs: number, countsAsRestart: boolean): void {
    this.#setState('BACKOFF');
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      if (this.state !== 'BACKOFF') return;
      if (countsAsRestart) this.restarts++;
      this.#spawn();
    }, delayMs);
  }

  async #reapGroup(pgid: number): Promise<void> {
    if (!signalGroup(pgid, 'SIGTERM')) return;
    const deadline = Date.now() + LEFTOVER_GRACE_MS;
    while (Date.now() < deadline && signalGroup(pgid, 0)) await delay(20);
    signalGroup(pgid, 'SIGKILL');
  }

  /** Stops the child: close stdin, then SIGTERM to its group at half the timeout, SIGKILL at the full timeout. */
  async stop(timeoutMs: number = this.spec.stopTimeoutMs): Promise<void> {
    clearTimeout(this.#backoffTimer);
    clearTimeout(this.#pingTimer);
    if (this.state === 'STOPPED') return;
    if (this.#process === undefined || this.pid === null) {
      this.#generation++;
      this.pid = null;
      this.#setState('STOPPED');
      return;
    }
    const pgid = this.pid;
    this.#setState('STOPPING');
    const exited = this.#exited;
    this.#process.stdin?.end();
    const half = Math.max(1, Math.floor(timeoutMs / 2));
    if (!(await settlesWithin(exited, half))) {
      signalGroup(pgid, 'SIGTERM');
      if (!(await settlesWithin(exited, timeoutMs - half))) signalGroup(pgid, 'SIGKILL');
    }
    await exited;
    await this.#reaped;
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

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  const controller = new AbortController();
  const timer = delay(ms, false, { signal: controller.signal }).catch(() => false);
  const settled = await Promise.race([promise.then(() => true), timer]);
  controller.abort();
  return settled;
}

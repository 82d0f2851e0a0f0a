import { type ChildProcess, fork } from 'node:child_process';
import { readResidentBytes } from './process-memory.js';
import type { QueryOutcome, QueryReply, QueryRequest, RunnerOptions } from './query-protocol.js';

/** V8 heap of one query process (MiB): room for a capped result set, not for a runaway. */
const RUNNER_HEAP_MB = 256;

/** How often a running query's memory is checked (ms): often enough to stop a runaway within a few hundred MiB. */
const MEMORY_POLL_MS = 100;

/** Options of a QueryPool. */
export interface QueryPoolOptions {
  /** The compiled query runner program (query-runner.js). */
  runnerPath: string;
  /** The database the runners open. */
  runner: RunnerOptions;
  /** How many runner processes may run queries at once. */
  size: number;
  /** How long one query may run before its process is killed (ms). */
  timeoutMs: number;
  /** How many queries may wait for a free runner before new ones are refused. */
  maxQueue: number;
  /** Resident memory a runner may reach while running a query before it is killed (bytes; checked where /proc exists). */
  maxMemoryBytes: number;
  /** How long a runner may sit without a query before it is ended (ms); the next query starts a fresh one. */
  idleMs: number;
}

/** One query request without its id, as callers pass it. */
export type QueryJob = Omit<QueryRequest, 'id'>;

interface PendingJob {
  id: number;
  request: QueryJob;
  resolve: (outcome: QueryOutcome) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Slot {
  child: ChildProcess | null;
  job: PendingJob | null;
  timer: NodeJS.Timeout | null;
  watch: NodeJS.Timeout | null;
  idle: NodeJS.Timeout | null;
}

function assertInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected \`${name}\` to be an integer >= ${min}, got \`${value}\``);
  }
}

/**
 * Runs queries in separate processes. SQLite cannot be interrupted from outside its thread through better-sqlite3
 * (a worker thread stuck in a native query ignores `terminate()`), so a query that passes its time limit is stopped
 * by killing its process; a fresh one takes the next query. With more than one runner, other calls go on meanwhile.
 * Runners start when a query needs one and end after `idleMs` without one: a child nobody queries holds no runner.
 */
export class QueryPool {
  readonly #options: QueryPoolOptions;
  readonly #slots: Slot[];
  readonly #queue: PendingJob[] = [];
  readonly #exits = new Set<Promise<void>>();
  #nextId = 1;
  #closed = false;

  constructor(options: QueryPoolOptions) {
    assertInteger('size', options.size, 1);
    assertInteger('timeoutMs', options.timeoutMs, 1);
    assertInteger('maxQueue', options.maxQueue, 0);
    assertInteger('maxMemoryBytes', options.maxMemoryBytes, 1);
    assertInteger('idleMs', options.idleMs, 1);
    this.#options = options;
    this.#slots = Array.from({ length: options.size }, () => ({
      child: null,
      job: null,
      timer: null,
      watch: null,
      idle: null,
    }));
  }

  /** How many runner processes are alive now. */
  get runners(): number {
    return this.#slots.filter((slot) => slot.child !== null).length;
  }

  /** Runs one request; rejects with a message for the user when it fails, times out, is cancelled or cannot queue. */
  run(request: QueryJob, signal?: AbortSignal): Promise<QueryOutcome> {
    if (this.#closed) return Promise.reject(new Error('The sqlite child is shutting down.'));
    if (signal?.aborted) return Promise.reject(new Error('The query was cancelled before it started.'));
    return new Promise((resolve, reject) => {
      const job: PendingJob = {
        id: this.#nextId++,
        request,
        resolve,
        reject,
        signal,
        onAbort: () => this.#cancel(job),
      };
      const idle =
        this.#slots.find((slot) => slot.job === null && slot.child !== null) ??
        this.#slots.find((slot) => slot.job === null);
      if (idle) {
        this.#start(idle, job);
      } else if (this.#queue.length < this.#options.maxQueue) {
        this.#queue.push(job);
      } else {
        reject(
          new Error(
            `Too many queries: ${this.#options.size} are running and ${this.#options.maxQueue} are waiting. Try again shortly.`,
          ),
        );
        return;
      }
      signal?.addEventListener('abort', job.onAbort, { once: true });
    });
  }

  /** Refuses new queries, fails the pending ones and kills every runner; resolves once they have exited. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job).reject(new Error('The sqlite child is shutting down.'));
    for (const slot of this.#slots) {
      if (slot.job) this.#finish(slot).reject(new Error('The sqlite child is shutting down.'));
      this.#discard(slot);
    }
    await Promise.all(this.#exits);
  }

  #start(slot: Slot, job: PendingJob): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    const child = slot.child ?? this.#spawn(slot);
    slot.job = job;
    slot.timer = setTimeout(
      () =>
        this.#interrupt(
          slot,
          `Query interrupted: it ran longer than ${this.#options.timeoutMs} ms, the limit for one query. Its process was stopped, so nothing it changed was kept. Add a LIMIT or a narrower WHERE clause.`,
        ),
      this.#options.timeoutMs,
    );
    slot.watch = setInterval(() => this.#checkMemory(slot, child), MEMORY_POLL_MS);
    child.send({ ...job.request, id: job.id } satisfies QueryRequest, (error) => {
      if (error && slot.job === job) this.#interrupt(slot, `Could not reach the query process: ${error.message}`);
    });
  }

  #spawn(slot: Slot): ChildProcess {
    const child = fork(this.#options.runnerPath, [JSON.stringify(this.#options.runner)], {
      execArgv: [`--max-old-space-size=${RUNNER_HEAP_MB}`],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    slot.child = child;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exits.delete(exited);
        resolve();
        this.#onExit(slot, child, signal ?? `exit code ${code}`);
      });
      child.once('error', (error) => {
        // Only a process that never started emits 'error' without a later 'exit'.
        if (child.pid === undefined) {
          this.#exits.delete(exited);
          resolve();
          this.#onExit(slot, child, error.message);
        }
      });
    });
    this.#exits.add(exited);
    child.on('message', (reply: QueryReply) => this.#onReply(slot, child, reply));
    return child;
  }

  #onReply(slot: Slot, child: ChildProcess, reply: QueryReply): void {
    if (slot.child !== child || slot.job?.id !== reply.id) return;
    const job = this.#finish(slot);
    if (reply.ok) job.resolve(reply.outcome);
    else job.reject(new Error(reply.message));
    this.#next(slot);
  }

  #onExit(slot: Slot, child: ChildProcess, reason: string): void {
    if (slot.child !== child) return;
    slot.child = null;
    if (slot.job) {
      this.#finish(slot).reject(
        new Error(`The query process stopped unexpectedly (${reason}); the query did not complete.`),
      );
    }
    this.#next(slot);
  }

  #checkMemory(slot: Slot, child: ChildProcess): void {
    const resident = child.pid === undefined ? null : readResidentBytes(child.pid);
    if (resident === null || resident <= this.#options.maxMemoryBytes || slot.child !== child) return;
    const mib = Math.round(this.#options.maxMemoryBytes / (1024 * 1024));
    this.#interrupt(
      slot,
      `Query stopped: its process used more than ${mib} MiB of memory, the limit for one query. Nothing it changed was kept. Select fewer or smaller values.`,
    );
  }

  #interrupt(slot: Slot, message: string): void {
    const job = this.#finish(slot);
    this.#discard(slot);
    job.reject(new Error(message));
    this.#next(slot);
  }

  #cancel(job: PendingJob): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(job).reject(new Error('The query was cancelled before it started.'));
      return;
    }
    const slot = this.#slots.find((candidate) => candidate.job === job);
    if (slot) {
      this.#interrupt(slot, 'The query was cancelled. Its process was stopped, so nothing it changed was kept.');
    }
  }

  #discard(slot: Slot): void {
    if (slot.idle) clearTimeout(slot.idle);
    slot.idle = null;
    const child = slot.child;
    slot.child = null;
    child?.kill('SIGKILL');
  }

  #finish(slot: Slot): PendingJob {
    if (slot.timer) clearTimeout(slot.timer);
    if (slot.watch) clearInterval(slot.watch);
    slot.timer = null;
    slot.watch = null;
    const job = slot.job!;
    slot.job = null;
    return this.#settle(job);
  }

  #settle(job: PendingJob): PendingJob {
    job.signal?.removeEventListener('abort', job.onAbort);
    return job;
  }

  #next(slot: Slot): void {
    if (this.#closed || slot.job) return;
    const job = this.#queue.shift();
    if (job) this.#start(slot, job);
    else if (slot.child && !slot.idle) {
      slot.idle = setTimeout(() => this.#discard(slot), this.#options.idleMs);
      slot.idle.unref();
    }
  }
}

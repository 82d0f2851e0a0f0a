import { Cancellation, OmnimindError } from '../protocol/index.js';
import { AdmissionQueue, type Entry } from './admission-queue.js';
import { ChildWindow, DEFAULT_MAX_CHILD_WINDOW } from './child-window.js';
import { DeadlineSweep } from './deadlines.js';
import { createClosedError, LimiterRejection } from './errors.js';
import { createHostHealthProbe, type HostHealthProbe, judgeHealth } from './health.js';
import { type ResolvedLimiterOptions, resolveLimiterOptions } from './options.js';
import { QueueDelay } from './queue-delay.js';
import { RateController } from './rate.js';
import { type HealthSample, type LimiterOptions, PRIORITIES, PRIORITY_RANK, type Priority } from './types.js';

/** Shortest retry hint: retrying sooner than this under overload only adds load. */
const RETRY_AFTER_MIN_MS = 100;

/** Counters and limits of the limiter at one moment. */
export interface LimiterStats {
  /** The admission rate limit now in force, requests per second (adapted to host health; see README). */
  rps: number;
  /** Requests started per second over the last sample interval. */
  throughputRps: number;
  /** The in-flight limit now in force: `maxConcurrency` if set, else the sum of the children's windows. */
  concurrency: number;
  queued: number;
  /** Most requests that were waiting at once since the limiter started (never above `maxQueue`). */
  peakQueued: number;
  running: number;
  shed: number;
  timedOut: number;
  /** Per priority: waiting, running (admitted, not settled nor timed out), shed and timed out since start. */
  byPriority: Record<Priority, { queued: number; running: number; shed: number; timedOut: number }>;
  /**
   * Per child: its adaptive window, requests in flight and waiting, its learned baseline latency, and the delay of
   * its oldest waiting request against the target above which a standing queue is overload (see `QueueDelay`).
   */
  children: Record<
    string,
    { window: number; running: number; queued: number; baselineMs: number; delayMs: number; targetMs: number }
  >;
}

/**
 * How often the liveness sweep (which also judges queueing delay) runs while requests wait or run: rare enough to
 * cost nothing, short for a human, and CoDel's own interval.
 */
const LIVENESS_MS = 100;

/** Options of one `run` call. */
export interface RunOptions {
  priority: Priority;
  child: string;
  /** Per-request timeout override, capped at `maxTimeoutMs`; ignored unless a finite number > 0. */
  timeoutMs?: number;
  /**
   * The caller's own cancellation of this request, if it has one: the task gets it and the limiter cancels it on
   * timeout, which saves making a second one and linking the two. Cancelled while the request waits, the request
   * rejects with the reason when its turn comes, without running.
   */
  cancellation?: Cancellation;
}

/**
 * The gateway's admission control: a health-adapted global rate, per-child adaptive concurrency windows, four
 * priorities, shedding by queueing delay (CoDel, lowest priority first; see `QueueDelay`), a queue bounded in
 * memory, and a deadline per request. A request that may start at once runs at once; the others wait in the
 * `AdmissionQueue` and start as answers free their child's window, rate tokens come, or `maxConcurrency` allows.
 */
export class AdaptiveLimiter {
  #options: ResolvedLimiterOptions;
  readonly #rate: RateController;
  readonly #children = new Map<string, ChildWindow>();
  readonly #delays = new Map<string, QueueDelay>();
  readonly #queue: AdmissionQueue;
  readonly #deadlines: DeadlineSweep<Entry>;
  readonly #hostProbe: HostHealthProbe | undefined;
  readonly #probe: () => HealthSample;
  readonly #globalCap: number;
  readonly #shedByRank = [0, 0, 0, 0];
  readonly #runningByRank = [0, 0, 0, 0];
  readonly #timedOutByRank = [0, 0, 0, 0];
  #running = 0;
  /** Tasks started and not settled, timed out or not: what `maxConcurrency` bounds. */
  #active = 0;
  #shed = 0;
  #timedOut = 0;
  #startedInInterval = 0;
  #throughputRps = 0;
  #intervalStartedAt: number;
  #sampleTimer: unknown;
  #rateTimer: unknown;
  #livenessTimer: unknown;
  readonly #runningEntries = new Set<Entry>();
  #closed = false;

  constructor(options: LimiterOptions = {}) {
    this.#options = resolveLimiterOptions(options);
    const { clock } = this.#options;
    this.#intervalStartedAt = clock.now();
    this.#rate = new RateController({ ...this.#options, now: this.#intervalStartedAt });
    this.#queue = new AdmissionQueue({
      hasToken: () => this.#hasTokenForStart(),
      onStart: (entry) => this.#onStart(entry),
    });
    this.#globalCap = this.#options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.#deadlines = new DeadlineSweep(clock, (entry) => this.#expire(entry));
    if (this.#options.healthProbe) {
      this.#probe = this.#options.healthProbe;
    } else {
      const hostProbe = createHostHealthProbe();
      this.#hostProbe = hostProbe;
      this.#probe = () => hostProbe.sample();
    }
    this.#scheduleSample();
  }

  /**
   * Takes new options (a reload): rate bounds, queue bound, timeouts and per-child caps apply to what is admitted from
   * now on; the clock, the health probe and the current rate stay. Bad options throw and change nothing.
   */
  reconfigure(options: LimiterOptions): void {
    const { clock, healthProbe, logger } = this.#options;
    const resolved = resolveLimiterOptions({
      ...options,
      initialRps: Math.min(options.maxRps ?? Number.POSITIVE_INFINITY, Math.max(options.minRps ?? 0, this.#rate.rps)),
      clock,
      healthProbe,
      logger,
    });
    this.#rate.setBounds(resolved.minRps, resolved.maxRps);
    this.#options = resolved;
    for (const [name, child] of this.#children) {
      child.setMax(resolved.childConcurrency[name] ?? resolved.maxConcurrency ?? DEFAULT_MAX_CHILD_WINDOW);
    }
  }

  /**
   * Runs `task` once the request's priority, its child's window and the rate allow, within its deadline. Rejects
   * with a `LimiterRejection`: SHED when its child's queue is overloaded and this request is of a priority that no
   * longer keeps up, or the queue holds `maxQueue` requests (retry after `retryAfterMs`); TIMEOUT as soon as the
   * deadline passes (the task's cancellation is cancelled then; the promise does not wait for the task).
   */
  run<T>(task: (cancellation: Cancellation) => Promise<T>, options: RunOptions): Promise<T> {
    if (this.#closed) return Promise.reject(createClosedError());
    const { priority } = options;
    const rank = Object.hasOwn(PRIORITY_RANK, priority) ? PRIORITY_RANK[priority] : undefined;
    if (rank === undefined) {
      return Promise.reject(
        new OmnimindError(
          'PRIORITY_INVALID',
          `Expected \`priority\` to be one of ${PRIORITIES.join(', ')}, got \`${String(priority)}\``,
        ),
      );
    }
    const child = this.#childWindow(options.child);
    const delay = this.#childDelay(options.child);
    if (delay.sheds(rank, 0) && !this.#canStartNow(child)) {
      this.#countShed(rank);
      return Promise.reject(LimiterRejection.shed(priority, this.#retryAfterMs(rank), describeDelay(child, delay)));
    }
    if (this.#queue.size >= this.#options.maxQueue && !this.#canStartNow(child)) {
      const victim = this.#queue.lowest();
      if (victim === undefined || victim.rank >= rank) {
        this.#countShed(rank);
        return Promise.reject(LimiterRejection.shed(priority, this.#retryAfterMs(rank), this.#describeFullQueue()));
      }
      this.#evict(victim, this.#describeFullQueue());
    }
    const timeoutMs = this.#timeoutFor(options.timeoutMs);
    const now = this.#options.clock.now();
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        priority,
        rank,
        child,
        delay,
        waitedFrom: delay.activeAt(now),
        cancellation: options.cancellation,
        timeoutMs,
        deadline: now + timeoutMs,
        state: 'queued',
        seq: 0,
        task,
        queueNode: undefined,
        deadlineHandle: undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      entry.deadlineHandle = this.#deadlines.add(entry, timeoutMs);
      this.#armLiveness();
      // Nothing waits ahead of a request that may start now: it starts without passing through the queue.
      if (this.#queue.size === 0 && this.#canStartNow(child)) {
        this.#onStart(entry);
        this.#launch(entry);
        return;
      }
      this.#queue.attach(entry);
      this.#dispatch();
    });
  }

  /** The gateway's report of one child answer: its latency and whether it succeeded (timeouts count as failures). */
  /** How long a request may take, queued and running, unless it asks for another deadline (ms). */
  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  recordOutcome(child: string, latencyMs: number, ok: boolean): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.#childWindow(child).record(latencyMs, ok, this.#options.clock.now());
  }

  /**
   * The gateway's report of a child's state: `running` is true when it is RUNNING. Time a child spends starting,
   * restarting or idle is not counted as queueing delay, so its waiting requests are never shed for it.
   */
  noteChildState(child: string, running: boolean): void {
    if (this.#childDelay(child).setRunning(running, this.#options.clock.now())) {
      this.#childWindow(child).noteResume();
      if (this.#queue.size > 0) this.#dispatch();
    }
  }

  /** A snapshot of the limits and counters (`rps` is the rate limit; `throughputRps` what actually started). */
  stats(): LimiterStats {
    const byPriority = {} as LimiterStats['byPriority'];
    for (const priority of PRIORITIES) {
      const rank = PRIORITY_RANK[priority];
      byPriority[priority] = {
        queued: this.#queue.sizeOf(priority),
        running: this.#runningByRank[rank]!,
        shed: this.#shedByRank[rank]!,
        timedOut: this.#timedOutByRank[rank]!,
      };
    }
    const children: LimiterStats['children'] = {};
    let windows = 0;
    for (const child of this.#children.values()) {
      windows += child.limit;
      const delay = this.#childDelay(child.name);
      children[child.name] = {
        window: child.limit,
        running: child.inflight,
        queued: child.queued,
        baselineMs: child.baselineMs,
        delayMs: delay.delayMs,
        targetMs: delay.targetMs,
      };
    }
    return {
      rps: this.#rate.rps,
      throughputRps: this.#throughputRps,
      concurrency: Math.min(this.#globalCap, windows),
      queued: this.#queue.size,
      peakQueued: this.#queue.peak,
      running: this.#running,
      shed: this.#shed,
      timedOut: this.#timedOut,
      byPriority,
      children,
    };
  }

  /** Stops sampling and rejects every waiting request with LIMITER_CLOSED; running requests finish or time out. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { clock } = this.#options;
    if (this.#sampleTimer !== undefined) clock.clearTimeout(this.#sampleTimer);
    if (this.#rateTimer !== undefined) clock.clearTimeout(this.#rateTimer);
    if (this.#livenessTimer !== undefined) clock.clearTimeout(this.#livenessTimer);
    this.#sampleTimer = undefined;
    this.#rateTimer = undefined;
    this.#livenessTimer = undefined;
    this.#hostProbe?.close();
    for (const entry of [...this.#queue.entries()]) {
      this.#retire(entry);
      entry.reject(createClosedError());
    }
  }

  #childWindow(name: string): ChildWindow {
    let child = this.#children.get(name);
    if (child === undefined) {
      const cap = this.#options.childConcurrency[name] ?? this.#options.maxConcurrency ?? DEFAULT_MAX_CHILD_WINDOW;
      child = new ChildWindow(name, cap, this.#options.stress);
      this.#children.set(name, child);
    }
    return child;
  }

  #childDelay(name: string): QueueDelay {
    let delay = this.#delays.get(name);
    if (delay === undefined) {
      delay = new QueueDelay(this.#options.timeoutMs, this.#options.clock.now());
      this.#delays.set(name, delay);
    }
    return delay;
  }

  #timeoutFor(override: number | undefined): number {
    if (override === undefined || !Number.isFinite(override) || override <= 0) return this.#options.timeoutMs;
    return Math.min(override, this.#options.maxTimeoutMs);
  }

  #canStartNow(child: ChildWindow): boolean {
    return this.#active < this.#globalCap && child.hasRoom() && this.#rate.hasToken(this.#options.clock.now());
  }

  #hasTokenForStart(): boolean {
    const now = this.#options.clock.now();
    if (this.#rate.hasToken(now)) return true;
    this.#rate.noteBound(now);
    if (this.#rateTimer === undefined && !this.#closed) {
      this.#rateTimer = this.#options.clock.setTimeout(() => {
        this.#rateTimer = undefined;
        this.#dispatch();
      }, this.#rate.msUntilToken(now));
    }
    return false;
  }

  #onStart(entry: Entry): void {
    this.#rate.takeToken();
    const { child } = entry;
    child.noteStart();
    // One request starts per settled one, so a full window with more waiting shows here, not in a failed pick.
    if (child.queued > 0 && !child.hasRoom()) child.noteBlocked();
    entry.state = 'running';
    this.#runningEntries.add(entry);
    this.#running += 1;
    this.#runningByRank[entry.rank]! += 1;
    this.#startedInInterval += 1;
  }

  /** Runs an admitted request's task; it holds a slot of `maxConcurrency` until it settles, timed out or not. */
  #launch(entry: Entry): void {
    this.#active += 1;
    let cancellation = entry.cancellation;
    if (cancellation === undefined) {
      cancellation = new Cancellation();
      entry.cancellation = cancellation;
    }
    let promise: Promise<unknown>;
    try {
      promise = cancellation.aborted ? Promise.reject(cancellation.reason) : entry.task(cancellation);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => {
        if (this.#settle(entry)) entry.resolve(value);
      },
      (error: unknown) => {
        if (this.#settle(entry)) entry.reject(error);
      },
    );
  }

  /** Accounts for a task that settled; returns false if it had already timed out (its promise is rejected). */
  #settle(entry: Entry): boolean {
    const inTime = entry.state === 'running';
    this.#runningEntries.delete(entry);
    if (inTime) {
      this.#running -= 1;
      this.#runningByRank[entry.rank]! -= 1;
      if (entry.deadlineHandle) this.#deadlines.remove(entry.deadlineHandle);
    }
    entry.state = 'done';
    entry.deadlineHandle = undefined;
    this.#active -= 1;
    const now = this.#options.clock.now();
    entry.delay.noteServed(now);
    entry.child.noteSettle(now);
    // The slot it leaves (and a window that grew) may start what waits.
    if (this.#queue.size > 0) this.#dispatch();
    return inTime;
  }

  #expire(entry: Entry): void {
    entry.deadlineHandle = undefined;
    if (entry.state === 'queued') {
      this.#queue.detach(entry);
      entry.state = 'done';
      this.#timedOut += 1;
      this.#timedOutByRank[entry.rank]! += 1;
      entry.reject(LimiterRejection.timeout(entry.priority, entry.timeoutMs, 'queued'));
    } else if (entry.state === 'running') {
      // The child keeps its slot (and the request its `maxConcurrency` slot) until the task settles: the work is
      // still in flight there until the child acts on the cancellation.
      entry.state = 'expired';
      this.#runningEntries.delete(entry);
      this.#running -= 1;
      this.#runningByRank[entry.rank]! -= 1;
      this.#timedOut += 1;
      this.#timedOutByRank[entry.rank]! += 1;
      const rejection = LimiterRejection.timeout(entry.priority, entry.timeoutMs, 'running');
      entry.reject(rejection);
      entry.cancellation?.abort(rejection);
    }
  }

  #evict(entry: Entry, because: string): void {
    this.#retire(entry);
    this.#countShed(entry.rank);
    entry.reject(LimiterRejection.shed(entry.priority, this.#retryAfterMs(entry.rank), because));
  }

  #describeFullQueue(): string {
    return `${this.#options.maxQueue} requests are already waiting (limiter.maxQueue, the bound on the memory they use)`;
  }

  /**
   * CoDel's judgement of every child with waiting requests (see `QueueDelay`), then the shedding of those overloaded
   * for a whole interval. Each child's lists are FIFO on its clock, so their heads hold the longest waits: a judgement
   * costs O(children x priorities), and shedding one request O(1).
   */
  #judgeDelays(now: number): void {
    for (const [name, delay] of this.#delays) {
      const child = this.#childWindow(name);
      delay.beginScan(now);
      for (let rank = 0; rank < PRIORITIES.length; rank++) {
        const oldest = this.#queue.oldest(child, rank);
        if (oldest) delay.observe(delay.waited(oldest.waitedFrom), rank);
      }
      if (!delay.judge()) continue;
      for (let rank = 0; rank < PRIORITIES.length; rank++) {
        for (let oldest = this.#queue.oldest(child, rank); oldest; oldest = this.#queue.oldest(child, rank)) {
          if (!delay.sheds(rank, delay.waited(oldest.waitedFrom))) break;
          this.#evict(oldest, describeDelay(child, delay));
        }
      }
    }
  }

  /** Takes a waiting request out of the queue and the deadline sweep, before its promise is rejected. */
  #retire(entry: Entry): void {
    this.#queue.detach(entry);
    if (entry.deadlineHandle) this.#deadlines.remove(entry.deadlineHandle);
    entry.deadlineHandle = undefined;
    entry.state = 'done';
  }

  #countShed(rank: number): void {
    this.#shed += 1;
    this.#shedByRank[rank]! += 1;
  }

  /** Time for the requests ahead of this one to drain at the recent start rate (or the rate limit, before that). */
  #retryAfterMs(rank: number): number {
    const drainRps = this.#throughputRps > 0 ? this.#throughputRps : this.#rate.rps;
    const ahead = this.#queue.sizeAtOrAbove(rank) + 1;
    const ms = Math.ceil((ahead * 1000) / drainRps);
    return Math.min(this.#options.timeoutMs, Math.max(RETRY_AFTER_MIN_MS, ms));
  }

  /**
   * A safety net under the event-driven paths and the queueing-delay clock: while anything waits or runs, every
   * LIVENESS_MS it expires what is past its deadline, judges the children's queueing delay, and re-runs dispatch, so
   * no combination of timers can leave a request waiting forever.
   */
  #armLiveness(): void {
    if (this.#livenessTimer !== undefined || this.#closed) return;
    this.#livenessTimer = this.#options.clock.setTimeout(() => {
      this.#livenessTimer = undefined;
      const now = this.#options.clock.now();
      for (const entry of [...this.#queue.entries(), ...this.#runningEntries]) {
        if (entry.deadline > now) continue;
        if (entry.deadlineHandle) this.#deadlines.remove(entry.deadlineHandle);
        this.#expire(entry);
      }
      this.#judgeDelays(now);
      if (this.#queue.size > 0) this.#dispatch();
      if (this.#queue.size > 0 || this.#runningEntries.size > 0) this.#armLiveness();
    }, LIVENESS_MS);
  }

  /** Starts every waiting request that may start now, most urgent first. */
  #dispatch(): void {
    while (this.#active < this.#globalCap) {
      const entry = this.#queue.take();
      if (entry === undefined) return;
      this.#launch(entry);
    }
  }

  #scheduleSample(): void {
    this.#sampleTimer = this.#options.clock.setTimeout(() => this.#sample(), this.#options.sampleIntervalMs);
  }

  #sample(): void {
    const { clock, stress, logger } = this.#options;
    const now = clock.now();
    const elapsedMs = Math.max(now - this.#intervalStartedAt, 1);
    this.#intervalStartedAt = now;
    this.#throughputRps = (this.#startedInInterval * 1000) / elapsedMs;
    this.#startedInInterval = 0;
    let reasons: string[] = [];
    try {
      reasons = judgeHealth(this.#probe(), stress);
    } catch (error) {
      logger?.warn(`limiter: the health probe failed, judging this interval by the children only: ${String(error)}`);
    }
    let answers = 0;
    let stressedAnswers = 0;
    const childReasons: string[] = [];
    for (const child of this.#children.values()) {
      const interval = child.takeInterval();
      answers += interval.answers;
      if (interval.stress === undefined) continue;
      stressedAnswers += interval.answers;
      childReasons.push(interval.stress);
    }
    // A stressed child that carries most of the traffic is a stressed system; a minor one only loses its window.
    if (answers > 0 && stressedAnswers * 2 >= answers) reasons.push(...childReasons);
    const wasSlowStart = this.#rate.inSlowStart;
    const change = this.#rate.adjust(reasons.length > 0, this.#throughputRps, now);
    if (change === 'cut') {
      logger?.warn(
        `limiter: cut the rate to ${Math.round(this.#rate.rps)} rps${wasSlowStart ? ' (slow start over)' : ''}: ${reasons.join('; ')}`,
      );
    } else if (change === 'raised' && this.#queue.size > 0) {
      this.#dispatch();
    }
    this.#scheduleSample();
  }
}

/** Completes "shed because …" for a child whose queue is overloaded. */
function describeDelay(child: ChildWindow, delay: QueueDelay): string {
  return (
    `requests to ${child.name} have waited over ${Math.round(delay.targetMs)} ms for more than ` +
    `${Math.round(delay.intervalMs)} ms: more arrives than it answers, and lower priorities go first`
  );
}

/**
 * One child's adaptive concurrency window, in the style of TCP Vegas and Netflix's concurrency limits.
 *
 * Why a window per child, adapted per round trip: a child's capacity is a number of concurrent requests (it queues
 * the rest on its stdin), children differ by orders of magnitude in latency, and queueing inside a child is where
 * priorities stop working. Everything is driven by answers, so it reacts in milliseconds for a fast child and
 * never needs a timer. A round trip is a window's worth of settled requests.
 *
 * - Slow start (a cold child only): the window doubles while requests wait for it, until the first round trip
 *   that leaves it room, the first queue seen in the child, or the first cut.
 * - Then a binding window moves to keep a few requests queued in the child (Vegas: see `#step`), and a round trip
 *   that leaves it partly unused shrinks it halfway to what was used (Linux's cwnd validation).
 * - After each change the window holds for two round trips, until answers show its effect.
 * - A stressed batch of answers (a quarter of a window, at least 8) cuts it at once: too many failures to 0.7 of the
 *   in-flight peak; a fastest answer 1.5x the baseline with a queue far past the Vegas band to the Vegas estimate
 *   of the child's capacity (in flight x baseline / fastest), never above 0.7x. Answers to requests sent before a cut are not judged again (TCP's
 *   recovery), so one queue is never punished twice.
 *
 * The fastest answer, as in Linux's Vegas, rises only when every request waits in a standing queue: a scheduling
 * hiccup or a few expensive tool calls leave it alone, so children whose tools differ in cost keep their window.
 * Latency also only counts while the window is in use (peak >= half the window): with few requests in flight the
 * limiter cannot be what makes a child slow.
 */

import { WindowedMin } from './windowed-min.js';

/** Initial window: TCP's initial window of 10 segments (RFC 6928) — enough for most clients without any growth. */
export const INITIAL_CHILD_WINDOW = 10;
/** Lowest window a cut can reach: two requests keep a child busy while one answer travels back. */
export const MIN_CHILD_WINDOW = 2;
/** Highest window without a configured cap: far beyond what a stdio child answers at once. */
export const DEFAULT_MAX_CHILD_WINDOW = 1024;
/** Multiplicative decrease of the window on stress, like the rate's. */
export const WINDOW_BACKOFF = 0.7;
/** Fewest answers a batch or an interval needs before its latency or error rate is trusted. */
export const MIN_WINDOW_SAMPLES = 8;
/** Vegas's queue bounds, times log10 of the window (as in Netflix's VegasLimit): hold 3 to 6 requests queued in a
 * child of window 10, 5 to 10 at window 50 — enough to keep it busy, too few to matter for latency. */
const VEGAS_ALPHA = 3;
const VEGAS_BETA = 6;
/** A queue estimate this many times Vegas's beta, with the latency factor reached, cuts at once. */
const SEVERE_QUEUE_FACTOR = 2;
/** Round trips the window holds after a change before it is judged again (see `noteSettle`). */
const HOLD_ROUNDS_AFTER_CHANGE = 2;
/** Batches judged per round trip: queueing is seen within a quarter of a round, before slow start overshoots far. */
const BATCHES_PER_ROUND = 4;
/**
 * The baseline is the fastest answer seen over the last one to two epochs: long enough to span several cuts (after
 * each, the child's queue drains and its fastest answer returns to the baseline), short enough that a child that
 * really got slower is relearned within seconds. A slowly rising average would follow a creeping queue instead.
 */
export const BASELINE_EPOCH_MS = 5_000;
/**
 * Latency below this many milliseconds above the baseline is never stress: sub-millisecond children jitter by
 * multiples of their baseline (scheduling, GC) without anything queueing.
 */
export const MIN_STRESS_EXCESS_MS = 20;
/**
 * Queueing inside a child that adds less than this many milliseconds to the mean answer counts as none, so the window
 * grows: a fast child (a stdio echo answers in tens of µs) serves more the more it is sent at once, since each
 * wake-up then reads and writes a batch, and a request of any priority waits at most this long behind the child's
 * queue. Slower children are held to Vegas's few queued requests.
 */
export const QUEUE_ALLOWANCE_MS = 2;
/** Floor of a learned baseline, so a child answering in ~0 ms still has one (and 0 keeps meaning "unknown"). */
const MIN_BASELINE_MS = 0.001;

/** Stress levels a child's answers are judged against. */
export interface ChildStress {
  errorRate: number;
  latencyFactor: number;
}

/** Per-child state: in-flight and queued counts, the adaptive window and the answer statistics. */
export class ChildWindow {
  readonly name: string;
  max: number;
  inflight = 0;
  queued = 0;
  #limit: number;
  #slowStart = true;
  #acks = 0;
  #peak = 0;
  #blocked = false;
  #recovering = false;
  #recoveryLeft = 0;
  #holdRounds = 0;
  #samples = 0;
  #errors = 0;
  #fastestMs = Number.POSITIVE_INFINITY;
  readonly #fastestBaseline = new WindowedMin(BASELINE_EPOCH_MS);
  readonly #meanBaseline = new WindowedMin(BASELINE_EPOCH_MS);
  #roundLatencySum = 0;
  #roundAnswers = 0;
  #intervalAnswers = 0;
  #intervalErrors = 0;
  #intervalBatches = 0;
  #intervalFastestSum = 0;
  readonly #stress: ChildStress;

  constructor(name: string, max: number, stress: ChildStress) {
    this.name = name;
    this.max = max;
    this.#stress = stress;
    this.#limit = Math.min(max, INITIAL_CHILD_WINDOW);
  }

  /** Takes a new cap (a reload); a window above it shrinks to it at once. */
  setMax(max: number): void {
    this.max = max;
    this.#limit = Math.min(this.#limit, max);
  }

  /** Current window: how many of this child's requests may be in flight. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** Learned latency of the child's fastest answers without queueing, ms (0 until known). */
  get baselineMs(): number {
    return this.#fastestBaseline.value;
  }

  /** Whether one more request may start now. */
  hasRoom(): boolean {
    return this.inflight < this.limit;
  }

  /**
   * The child is RUNNING again after a restart: the requests in flight now were held while it was down, so their
   * latency says nothing about it and, as after a cut, their answers are not judged.
   */
  noteResume(): void {
    this.#recovering = this.inflight > 0;
    this.#recoveryLeft = this.inflight;
    this.#startRound();
    this.#resetBatch();
  }

  /** Records that a queued request waited because this window was full: the window is binding. */
  noteBlocked(): void {
    this.#blocked = true;
  }

  /** A request for this child started. */
  noteStart(): void {
    this.inflight += 1;
    if (this.inflight > this.#peak) this.#peak = this.inflight;
  }

  /** A request for this child settled; after a window's worth of them (one round trip), may grow the window. */
  noteSettle(now: number): void {
    this.inflight -= 1;
    if (this.#recovering) {
      // The requests in flight at the cut were sent under the old window; their answers start no new round.
      this.#recoveryLeft -= 1;
      if (this.#recoveryLeft > 0) return;
      this.#recovering = false;
      this.#startRound();
      this.#resetBatch();
      return;
    }
    this.#acks += 1;
    if (this.#acks < Math.max(MIN_WINDOW_SAMPLES, this.limit)) return;
    const before = this.limit;
    if (this.#holdRounds > 0) {
      // A change shows in the answers only once requests sent after it come back, and the first of those still
      // found the child's old queue: judge the second round trip after a change (Vegas waits one), else stale
      // answers make every step overshoot.
      this.#holdRounds -= 1;
    } else if (this.#blocked) {
      this.#limit = Math.min(this.max, Math.max(MIN_CHILD_WINDOW, this.#limit + this.#step(now)));
      if (this.limit !== before) this.#holdRounds = HOLD_ROUNDS_AFTER_CHANGE;
    } else {
      // Slow start is for a cold child only: once the window has room for the demand it has done its job, and a
      // later surge must not double a window the child never proved it could serve.
      this.#slowStart = false;
      // Unused window is untested window: halve the gap to what was used (Linux's cwnd validation).
      if (this.#peak < this.#limit) {
        this.#limit = Math.max(Math.min(this.max, INITIAL_CHILD_WINDOW), (this.#limit + this.#peak) / 2);
      }
    }
    this.#startRound();
  }

  /** The gateway's report of one child answer; each batch of them is judged, and a stressed batch cuts the window. */
  record(latencyMs: number, ok: boolean, now: number): void {
    this.#intervalAnswers += 1;
    if (!ok) this.#intervalErrors += 1;
    // Answers to requests sent before a cut say nothing about the new window.
    if (this.#recovering) return;
    this.#samples += 1;
    if (!ok) {
      this.#errors += 1;
    } else {
      if (latencyMs < this.#fastestMs) this.#fastestMs = latencyMs;
      this.#roundLatencySum += latencyMs;
      this.#roundAnswers += 1;
    }
    if (this.#samples < Math.max(MIN_WINDOW_SAMPLES, Math.ceil(this.limit / BATCHES_PER_ROUND))) return;
    const failed = this.#errors / this.#samples >= this.#stress.errorRate;
    const fastestMs = this.#fastestMs;
    this.#resetBatch();
    if (failed) {
      this.#cut(WINDOW_BACKOFF);
      return;
    }
    if (fastestMs === Number.POSITIVE_INFINITY) return;
    this.#intervalBatches += 1;
    this.#intervalFastestSum += fastestMs;
    const baselineMs = this.baselineMs;
    this.#fastestBaseline.add(Math.max(fastestMs, MIN_BASELINE_MS), now);
    if (
      baselineMs === 0 ||
      fastestMs < this.#stress.latencyFactor * baselineMs ||
      fastestMs - baselineMs < MIN_STRESS_EXCESS_MS ||
      this.#peak * 2 < this.#limit
    ) {
      return;
    }
    // A child that serves one request at a time shows a few queued requests as a multiple of its baseline: only a
    // queue well past the Vegas band (see `#step`) is an emergency; the band's own steps handle the rest.
    const queued = this.#peak * (1 - baselineMs / fastestMs);
    if (queued <= SEVERE_QUEUE_FACTOR * VEGAS_BETA * Math.log10(Math.max(10, this.#limit))) return;
    // Vegas's estimate of what the child serves without queueing: in flight x baseline / observed latency.
    // Cutting straight to it (never above 0.7x) ends a slow-start overshoot in one step instead of several.
    this.#cut(Math.min(WINDOW_BACKOFF, baselineMs / fastestMs));
  }

  /** Ends a sample interval: returns its answer count and, when the child was stressed in it, why. */
  takeInterval(): { answers: number; stress: string | undefined } {
    const answers = this.#intervalAnswers;
    let stress: string | undefined;
    const errorRate = answers > 0 ? this.#intervalErrors / answers : 0;
    const fastestMs = this.#intervalBatches > 0 ? this.#intervalFastestSum / this.#intervalBatches : 0;
    if (answers >= MIN_WINDOW_SAMPLES && errorRate >= this.#stress.errorRate) {
      stress = `child ${this.name} failed ${Math.round(errorRate * 100)}% of ${answers} answers`;
    } else if (
      this.#intervalBatches > 0 &&
      fastestMs >= this.#stress.latencyFactor * this.baselineMs &&
      fastestMs - this.baselineMs >= MIN_STRESS_EXCESS_MS
    ) {
      stress =
        `child ${this.name} latency ${fastestMs.toFixed(1)} ms >= ${this.#stress.latencyFactor}x its baseline ` +
        `${this.baselineMs.toFixed(1)} ms (fastest answer per round trip)`;
    }
    this.#intervalAnswers = 0;
    this.#intervalErrors = 0;
    this.#intervalBatches = 0;
    this.#intervalFastestSum = 0;
    return { answers, stress };
  }

  /** Multiplicative decrease of the in-flight peak, at once (like TCP on a loss), then a recovery without cuts. */
  #cut(factor: number): void {
    this.#slowStart = false;
    this.#limit = Math.min(this.max, Math.max(MIN_CHILD_WINDOW, Math.min(this.#limit, this.#peak) * factor));
    this.#recovering = this.inflight > 0;
    this.#recoveryLeft = this.inflight;
    this.#holdRounds = 0;
    this.#startRound();
  }

  #resetBatch(): void {
    this.#samples = 0;
    this.#errors = 0;
    this.#fastestMs = Number.POSITIVE_INFINITY;
  }

  /**
   * How a binding window changes after a round trip, as in Netflix's VegasLimit: the requests queued inside the
   * child are estimated as window x (1 - baseline / mean latency of the round), the baseline being the lowest round
   * mean of the last seconds (Vegas's expected versus actual throughput). About none: grow by beta (double in slow
   * start), since the child waits for work; fewer than alpha: grow by one; more than beta: shrink by one (and leave
   * slow start); in between: hold. That keeps a small, steady queue in the child, enough to keep it busy, instead of
   * a sawtooth up to the cut. Alpha and beta scale with log10 of the window. The mean, not the fastest answer: a
   * child's answers come in bursts, so some requests find a free slot even behind a standing queue.
   */
  #step(now: number): number {
    const roundMeanMs = this.#roundAnswers >= MIN_WINDOW_SAMPLES ? this.#roundLatencySum / this.#roundAnswers : 0;
    if (roundMeanMs > 0) this.#meanBaseline.add(Math.max(roundMeanMs, MIN_BASELINE_MS), now);
    const baselineMs = this.#meanBaseline.value;
    const queued = roundMeanMs > 0 && baselineMs > 0 ? this.#limit * (1 - baselineMs / roundMeanMs) : 0;
    const scale = Math.log10(Math.max(10, this.#limit));
    if (queued <= scale || roundMeanMs - baselineMs < QUEUE_ALLOWANCE_MS)
      return this.#slowStart ? this.#limit : VEGAS_BETA * scale;
    this.#slowStart = false;
    if (queued < VEGAS_ALPHA * scale) return 1;
    if (queued > VEGAS_BETA * scale) return -1;
    return 0;
  }

  #startRound(): void {
    this.#roundLatencySum = 0;
    this.#roundAnswers = 0;
    this.#acks = 0;
    this.#peak = this.inflight;
    this.#blocked = false;
  }
}

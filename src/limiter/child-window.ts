/**
 * One child's adaptive concurrency window, in the style of TCP Vegas and Netflix's concurrency limits.
 *
 * Why a window per child, adapted per round trip: a child's capacity is a number of concurrent requests (it queues
 * the rest on its stdin), children differ by orders of magnitude in latency, and queueing inside a child is where
 * priorities stop working. Everything is driven by answers, so it reacts in milliseconds for a fast child and never
 * needs a timer. Slow start doubles the window per round trip (a window's worth of settled requests) while requests
 * wait for it; a stressed batch of answers cuts it at once to at most 0.7 of the in-flight peak (on latency, to the
 * Vegas estimate of the child's capacity when that is lower) and ends the slow start;
 * after that it grows by one per round trip, and a round trip that leaves it partly unused shrinks it halfway to
 * what was used. Answers to requests sent before a cut are not judged again (TCP's recovery), so one queue is
 * never punished twice.
 *
 * Stress is a batch of answers (a quarter of a window, at least 8) with too many failures, or whose fastest answer is 1.5x the
 * learned baseline. The fastest answer, as in Linux's Vegas, rises only when every request waits in a standing
 * queue: a scheduling hiccup or a few expensive tool calls leave it alone, so children whose tools differ in cost
 * keep their window. Latency also only counts while the window is in use (peak >= half the window): with few
 * requests in flight the limiter cannot be what makes a child slow.
 */

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
/** Batches judged per round trip: queueing is seen within a quarter of a round, before slow start overshoots far. */
const BATCHES_PER_ROUND = 4;
/** Baseline latency follows a lower batch quickly (30% of the gap per batch)... */
const BASELINE_FALL = 0.3;
/** ...and a higher one slowly (2% per batch), so queueing shows as a rise yet a child that got slower is relearned. */
const BASELINE_RISE = 0.02;

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
  readonly max: number;
  inflight = 0;
  queued = 0;
  #limit: number;
  #slowStart = true;
  #acks = 0;
  #peak = 0;
  #blocked = false;
  #recovering = false;
  #recoveryLeft = 0;
  #samples = 0;
  #errors = 0;
  #fastestMs = Number.POSITIVE_INFINITY;
  #baselineMs = 0;
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

  /** Current window: how many of this child's requests may be in flight. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** Learned latency of the child's fastest answers without queueing, ms (0 until known). */
  get baselineMs(): number {
    return this.#baselineMs;
  }

  /** Whether one more request may start now. */
  hasRoom(): boolean {
    return this.inflight < this.limit;
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
  noteSettle(): boolean {
    this.inflight -= 1;
    if (this.#recovering) {
      // The requests in flight at the cut were sent under the old window; their answers start no new round.
      this.#recoveryLeft -= 1;
      if (this.#recoveryLeft > 0) return false;
      this.#recovering = false;
      this.#startRound();
      this.#resetBatch();
      return false;
    }
    this.#acks += 1;
    if (this.#acks < Math.max(MIN_WINDOW_SAMPLES, this.limit)) return false;
    const before = this.limit;
    if (this.#blocked) {
      this.#limit = Math.min(this.max, this.#slowStart ? this.#limit * 2 : this.#limit + 1);
    } else if (this.#peak < this.#limit) {
      // Unused window is untested window: halve the gap to what was used (Linux's cwnd validation), so a burst
      // after a quiet spell cannot flood the child with a window it never proved it could serve.
      this.#limit = Math.max(Math.min(this.max, INITIAL_CHILD_WINDOW), (this.#limit + this.#peak) / 2);
    }
    this.#startRound();
    return this.limit > before;
  }

  /** The gateway's report of one child answer; each batch of them is judged, and a stressed batch cuts the window. */
  record(latencyMs: number, ok: boolean): void {
    this.#intervalAnswers += 1;
    if (!ok) this.#intervalErrors += 1;
    // Answers to requests sent before a cut say nothing about the new window.
    if (this.#recovering) return;
    this.#samples += 1;
    if (!ok) this.#errors += 1;
    else if (latencyMs < this.#fastestMs) this.#fastestMs = latencyMs;
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
    const baselineMs = this.#baselineMs;
    this.#learnBaseline(fastestMs);
    if (baselineMs === 0 || fastestMs < this.#stress.latencyFactor * baselineMs || this.#peak * 2 < this.#limit) return;
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
    } else if (this.#intervalBatches > 0 && fastestMs >= this.#stress.latencyFactor * this.#baselineMs) {
      stress =
        `child ${this.name} latency ${fastestMs.toFixed(1)} ms >= ${this.#stress.latencyFactor}x its baseline ` +
        `${this.#baselineMs.toFixed(1)} ms (fastest answer per round trip)`;
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
    this.#startRound();
  }

  #resetBatch(): void {
    this.#samples = 0;
    this.#errors = 0;
    this.#fastestMs = Number.POSITIVE_INFINITY;
  }

  #startRound(): void {
    this.#acks = 0;
    this.#peak = this.inflight;
    this.#blocked = false;
  }

  #learnBaseline(fastestMs: number): void {
    if (this.#baselineMs === 0) {
      this.#baselineMs = Math.max(fastestMs, MIN_BASELINE_MS);
      return;
    }
    const gain = fastestMs < this.#baselineMs ? BASELINE_FALL : BASELINE_RISE;
    this.#baselineMs += (fastestMs - this.#baselineMs) * gain;
  }
}

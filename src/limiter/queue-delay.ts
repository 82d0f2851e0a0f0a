import { WindowedMin } from './windowed-min.js';

/**
 * One child's queueing-delay judge, after CoDel (Nichols and Jacobson, RFC 8289): a queue is overloaded when the
 * delay of its oldest waiting request stays above a target for a whole interval, never for its length.
 *
 * Why delay and not length: a queue that is long because many clients each wait for one answer, or because the
 * child is restarting, drains as fast as the child answers; only a delay that keeps growing past what the child can
 * serve means more arrives than it can do. Adapted to a priority queue and to children that differ by orders of
 * magnitude in speed:
 * - The delay is measured on the child's own clock, which stops while the child is not RUNNING (starting,
 *   restarting, idle): waiting for a child to come back is never overload. Nor is waiting for a child that has
 *   answered nothing for a whole target (stuck, or on long calls): requests then time out.
 * - The target is the time the child needs to answer STANDING_ANSWERS requests at the best rate it drained its queue
 *   lately (which also shows what the host lets through), at least TARGET_FLOOR_MS and at most a quarter of the
 *   timeout.
 *   Hundreds of clients with one request each wait far less than that.
 * - Once overloaded, the highest priority with a request above the target is the one that no longer keeps up:
 *   every waiting request below it is shed (it would wait longer still), then its own requests above the target,
 *   and arrivals below it are shed at once. Higher priorities are dispatched first and keep their requests.
 */

/** Answers a standing queue may hold: a thousand clients that each keep one request waiting are not overload. */
export const STANDING_ANSWERS = 1_000;
/** Lowest target: a second is the wait people still read as an immediate answer; below it waiting is never shed. */
export const TARGET_FLOOR_MS = 1_000;
/** Highest target, as a share of the request timeout: a request shed then still has time to retry elsewhere. */
export const TARGET_TIMEOUT_SHARE = 0.25;
/** The interval is this share of the target (at least MIN_INTERVAL_MS): the tolerance is in the target already. */
export const INTERVAL_TARGET_SHARE = 0.1;
/** Shortest interval: one judging tick of the limiter. */
export const MIN_INTERVAL_MS = 100;
/** Smoothing time of the measured drain rate: a second of answers outweighs any one tick. */
const DRAIN_SMOOTHING_MS = 1_000;
/**
 * The target follows the best drain rate of the last one to two epochs: a child (or host) slowed by the overload
 * itself must not stretch the target and let the queue grow further.
 */
const DRAIN_EPOCH_MS = 5_000;

/** Queueing delay and overload state of one child's waiting requests. */
export class QueueDelay {
  readonly #maxTargetMs: number;
  #running = true;
  #activeMs = 0;
  #activeSince: number;
  #drainRps = 0;
  /** Best recent drain rate, as the windowed minimum of its negation. */
  readonly #bestDrain = new WindowedMin(DRAIN_EPOCH_MS);
  #served = 0;
  #lastServedAt: number | undefined;
  #sampledAt: number | undefined;
  #aboveSince: number | undefined;
  #shedRank = -1;
  #scanNow = 0;
  #scanTargetMs = 0;
  #scanOldest = 0;
  #scanRank = -1;
  #scanCount = 0;
  #delayMs = 0;

  constructor(timeoutMs: number, now: number) {
    this.#maxTargetMs = timeoutMs * TARGET_TIMEOUT_SHARE;
    this.#activeSince = now;
  }

  /** Time the child has been RUNNING since the limiter first saw it, ms: the clock waiting is measured on. */
  activeAt(now: number): number {
    return this.#running ? this.#activeMs + (now - this.#activeSince) : this.#activeMs;
  }

  /** Whether the child is RUNNING. */
  get running(): boolean {
    return this.#running;
  }

  /** Delay of the oldest waiting request at the last judgement, ms of the child's clock. */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** How long a request may wait before the queue counts as standing, ms. */
  get targetMs(): number {
    const drainRps = -this.#bestDrain.value;
    const target = drainRps > 0 ? (STANDING_ANSWERS * 1000) / drainRps : this.#maxTargetMs;
    return Math.min(this.#maxTargetMs, Math.max(TARGET_FLOOR_MS, target));
  }

  /** How long the delay must stay above the target before requests are shed, ms. */
  get intervalMs(): number {
    return Math.max(MIN_INTERVAL_MS, this.targetMs * INTERVAL_TARGET_SHARE);
  }

  /** Records a change of the child's state; returns true when it resumed. A paused child is never overloaded. */
  setRunning(running: boolean, now: number): boolean {
    if (running === this.#running) return false;
    this.#activeMs = this.activeAt(now);
    this.#activeSince = now;
    this.#running = running;
    this.#aboveSince = undefined;
    this.#shedRank = -1;
    this.#sampledAt = undefined;
    return running;
  }

  /** One of the child's requests settled: counts toward its drain rate. */
  noteServed(now: number): void {
    this.#served += 1;
    this.#lastServedAt = this.activeAt(now);
  }

  /** Starts a judgement at `now`: `observe` each waiting request of the child, then `judge`. */
  beginScan(now: number): void {
    this.#scanNow = this.activeAt(now);
    this.#scanTargetMs = this.targetMs;
    this.#scanOldest = 0;
    this.#scanRank = -1;
    this.#scanCount = 0;
  }

  /** How long a request that started waiting at `waitedFrom` (from `activeAt`) has waited, as of the scan. */
  waited(waitedFrom: number): number {
    return this.#scanNow - waitedFrom;
  }

  /** Notes one waiting request of the current scan. */
  observe(waitedMs: number, rank: number): void {
    this.#scanCount += 1;
    if (waitedMs > this.#scanOldest) this.#scanOldest = waitedMs;
    if (waitedMs > this.#scanTargetMs && rank > this.#scanRank) this.#scanRank = rank;
  }

  /** Ends a scan: updates the drain rate and the overload state; returns whether requests must be shed now. */
  judge(): boolean {
    const now = this.#scanNow;
    this.#delayMs = this.#scanOldest;
    this.#sampleDrain(now);
    // A child that answered nothing for a whole target is stuck or still starting, not overloaded by what arrives:
    // its requests time out instead, and shedding them would not help it.
    const stalled = this.#lastServedAt === undefined || now - this.#lastServedAt > this.#scanTargetMs;
    if (!this.#running || stalled || this.#scanRank < 0) {
      this.#aboveSince = undefined;
      this.#shedRank = -1;
      return false;
    }
    this.#aboveSince ??= now;
    if (now - this.#aboveSince < this.intervalMs) return false;
    this.#shedRank = this.#scanRank;
    return true;
  }

  /** Whether a request of `rank` that has waited `waitedMs` is to be shed (an arrival has waited 0). */
  sheds(rank: number, waitedMs: number): boolean {
    if (this.#shedRank < 0) return false;
    return rank < this.#shedRank || (rank === this.#shedRank && waitedMs > this.targetMs);
  }

  /** The drain rate counts only while requests wait for a running child: then answers show what it can do. */
  #sampleDrain(now: number): void {
    if (!this.#running || this.#scanCount === 0) {
      this.#sampledAt = undefined;
      this.#served = 0;
      return;
    }
    if (this.#sampledAt === undefined) {
      this.#sampledAt = now;
      this.#served = 0;
      return;
    }
    const elapsed = now - this.#sampledAt;
    if (elapsed <= 0) return;
    const rate = (this.#served * 1000) / elapsed;
    const weight = this.#drainRps > 0 ? elapsed / (elapsed + DRAIN_SMOOTHING_MS) : 1;
    this.#drainRps += (rate - this.#drainRps) * weight;
    this.#bestDrain.add(-this.#drainRps, now);
    this.#sampledAt = now;
    this.#served = 0;
  }
}

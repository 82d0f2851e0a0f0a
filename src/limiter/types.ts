import type { Clock } from '../clock/index.js';

/** The four request priorities, most urgent first. */
export type Priority = 'CRITICAL' | 'HIGH' | 'NORMAL' | 'LOW';

/** Every priority, most urgent first: the order in which queued requests are dispatched. */
export const PRIORITIES: readonly Priority[] = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'];

/** Rank of each priority: a higher rank is dispatched first and is shed last. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { CRITICAL: 3, HIGH: 2, NORMAL: 1, LOW: 0 };

/** The limiter's time source: the project's one clock shape (src/clock). */
export type LimiterClock = Clock;

/** One reading of the host's health, taken without blocking the event loop. */
export interface HealthSample {
  /** p99 event-loop delay since the previous sample, in milliseconds. */
  eventLoopDelayMs: number;
  /** Process CPU time since the previous sample divided by wall time and by the available cores (0..1). */
  cpu: number;
  /** V8 heap in use as a fraction of the heap size limit (0..1). */
  memory: number;
  /** Resident set size in bytes, reported for information. */
  rssBytes?: number;
}

/** Levels at or above which a health reading or a child's outcomes count as stress. */
export interface StressThresholds {
  /** p99 event-loop delay, ms. */
  eventLoopDelayMs: number;
  /** CPU fraction of all available cores. */
  cpu: number;
  /** Heap fraction of the heap size limit. */
  memory: number;
  /** Share of a child's answers reported as failed. */
  errorRate: number;
  /** A child's mean latency divided by its learned baseline latency. */
  latencyFactor: number;
}

/** Options of `AdaptiveLimiter`; every field is optional. */
export interface LimiterOptions {
  initialRps?: number;
  minRps?: number;
  maxRps?: number;
  /**
   * Most requests waiting (not running) across all priorities: a bound on the memory they use, not how overload is
   * judged (that is queueing delay, see `QueueDelay`).
   */
  maxQueue?: number;
  /** Per-request timeout covering queue wait and run. */
  timeoutMs?: number;
  /** Cap for a per-request timeout override; defaults to `timeoutMs`. */
  maxTimeoutMs?: number;
  /** Fixed global in-flight cap; without it the cap is the sum of the children's adaptive windows. */
  maxConcurrency?: number;
  /** Per-child in-flight caps: the most each child's adaptive window may grow to. */
  childConcurrency?: Record<string, number>;
  sampleIntervalMs?: number;
  clock?: LimiterClock;
  healthProbe?: () => HealthSample;
  logger?: { info(m: string): void; warn(m: string): void };
  /** Overrides for the stress thresholds. */
  stress?: Partial<StressThresholds>;
}

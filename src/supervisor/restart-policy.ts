import { type Clock, realClock } from '../clock/index.js';

/** First restart delay (CONTRACT.md): quick enough that a one-off crash is invisible to clients. */
export const BACKOFF_INITIAL_MS = 100;
/** Each consecutive failure waits 1.5× longer. */
export const BACKOFF_FACTOR = 1.5;
/** The longest wait between restarts. */
export const BACKOFF_MAX_MS = 15_000;
/** Running this long without a crash counts as stable and resets the backoff. */
export const STABLE_AFTER_MS = 30_000;
/**
 * An exit this soon after RUNNING (or before it) is a failed start, as supervisord's `startsecs`: a crash loop. A child
 * that ran longer and was then killed is restarted with backoff but never made FATAL for it.
 */
export const FAILED_START_MS = 1_000;
/** This many failed starts inside FATAL_WINDOW_MS make a child FATAL. */
export const FATAL_FAILURES = 5;
/** The window in which failed starts are counted. */
export const FATAL_WINDOW_MS = 60_000;

/** The decision after a child exited unexpectedly. */
export type RestartDecision = { action: 'restart'; delayMs: number } | { action: 'fatal'; failures: number };

/** Tracks one child's failures and decides backoff or FATAL (CONTRACT.md, "Child states"). */
export class RestartPolicy {
  readonly #clock: Clock;
  #failures: number[] = [];
  #consecutive = 0;

  constructor(clock: Clock = realClock) {
    this.#clock = clock;
  }

  /** Records an unexpected exit (or a failed start on demand) after `ranMs` of running (0 if it never became RUNNING). */
  recordExit(ranMs: number): RestartDecision {
    const now = this.#clock.now();
    if (ranMs >= STABLE_AFTER_MS) {
      this.#failures = [];
      this.#consecutive = 0;
    }
    this.#failures = this.#failures.filter((at) => now - at < FATAL_WINDOW_MS);
    if (ranMs < FAILED_START_MS) this.#failures.push(now);
    if (this.#failures.length >= FATAL_FAILURES) return { action: 'fatal', failures: this.#failures.length };
    const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** this.#consecutive);
    this.#consecutive++;
    return { action: 'restart', delayMs: Math.round(delayMs) };
  }

  /** Forgets every failure (`omnimind start <child>` clears FATAL). */
  reset(): void {
    this.#failures = [];
    this.#consecutive = 0;
  }
}

/**
 * The global admission rate: a token bucket whose refill rate adapts to the host's health.
 *
 * Why AIMD with a slow start: the rate has to find the gateway's capacity from a default of 100 rps without ever
 * being what caps a healthy system. While healthy and binding (requests waited for tokens) it doubles, at most every
 * SLOW_START_STEP_MS, so 100 rps passes 20,000 rps in about 80 ms (a burst of clients is shed for no longer); the first stress cuts it multiplicatively and
 * ends the slow start, after which it grows additively (a tenth of the rate at the last cut per interval), the
 * classic TCP pattern that converges to a fair, stable level. It never grows while not binding, so an idle
 * gateway's rate does not drift to a meaningless maximum. Cuts start from the measured throughput when that is
 * lower than the rate, so a cut always bites.
 */

/**
 * Slow-start step: a doubling every 10 ms takes the default 100 rps past 100,000 rps in 0.1 s, so a burst of
 * clients at start-up waits for the rate instead of being shed; the per-child windows, not the rate, find a child's
 * capacity.
 */
export const SLOW_START_STEP_MS = 10;
/** Multiplicative decrease on stress: CUBIC's 0.7 gives back less throughput per cut than Reno's 0.5. */
export const RATE_BACKOFF = 0.7;
/** Additive increase per healthy, binding interval, as a fraction of the rate at the last cut: regains a cut in 3. */
export const RATE_ADDITIVE_FRACTION = 0.1;
/** Token bucket depth in milliseconds of the current rate: absorbs timer granularity, bounds a burst to 50 ms. */
export const BURST_MS = 50;

/** What a sample interval did to the rate. */
export type RateChange = 'cut' | 'raised' | 'held';

/** The adaptive token bucket; time comes from the caller so it works on any clock. */
export class RateController {
  #rate: number;
  #minRps: number;
  #maxRps: number;
  #tokens: number;
  #refilledAt: number;
  #slowStart = true;
  #healthy = true;
  #bound = false;
  #lastStepAt: number;
  #rateAtCut = 0;

  constructor(options: { initialRps: number; minRps: number; maxRps: number; now: number }) {
    this.#rate = options.initialRps;
    this.#minRps = options.minRps;
    this.#maxRps = options.maxRps;
    this.#tokens = this.#capacity();
    this.#refilledAt = options.now;
    this.#lastStepAt = options.now;
  }

  /** Takes new bounds (a reload); the rate moves inside them at once. */
  setBounds(minRps: number, maxRps: number): void {
    this.#minRps = minRps;
    this.#maxRps = maxRps;
    this.#rate = Math.min(maxRps, Math.max(minRps, this.#rate));
  }

  /** Current rate limit, requests per second. */
  get rps(): number {
    return this.#rate;
  }

  /** True until the first cut. */
  get inSlowStart(): boolean {
    return this.#slowStart;
  }

  /** Whether a token is available now (refills first). */
  hasToken(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Takes one token; call only after `hasToken` returned true. */
  takeToken(): void {
    this.#tokens -= 1;
  }

  /** Milliseconds until the next token, at least 1. */
  msUntilToken(now: number): number {
    this.#refill(now);
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.#rate));
  }

  /** Records that a request waited for a token; in slow start and healthy, this may double the rate. */
  noteBound(now: number): void {
    this.#bound = true;
    this.#stepSlowStart(now);
  }

  /** Applies one sample interval's verdict; `throughputRps` is what was actually dispatched per second. */
  adjust(stressed: boolean, throughputRps: number, now: number): RateChange {
    this.#refill(now);
    const bound = this.#bound;
    this.#bound = false;
    this.#healthy = !stressed;
    if (stressed) {
      const effective = throughputRps > 0 ? Math.min(this.#rate, throughputRps) : this.#rate;
      this.#rateAtCut = effective;
      this.#slowStart = false;
      this.#set(effective * RATE_BACKOFF);
      return 'cut';
    }
    if (!bound) return 'held';
    if (this.#slowStart) return this.#stepSlowStart(now) ? 'raised' : 'held';
    const before = this.#rate;
    this.#set(this.#rate + Math.max(this.#minRps, this.#rateAtCut * RATE_ADDITIVE_FRACTION));
    return this.#rate > before ? 'raised' : 'held';
  }

  #stepSlowStart(now: number): boolean {
    if (!this.#slowStart || !this.#healthy || now - this.#lastStepAt < SLOW_START_STEP_MS) return false;
    this.#lastStepAt = now;
    const before = this.#rate;
    this.#set(this.#rate * 2);
    return this.#rate > before;
  }

  #set(rate: number): void {
    this.#rate = Math.min(this.#maxRps, Math.max(this.#minRps, rate));
    this.#tokens = Math.min(this.#tokens, this.#capacity());
  }

  #capacity(): number {
    return Math.max(1, (this.#rate * BURST_MS) / 1000);
  }

  #refill(now: number): void {
    const elapsed = now - this.#refilledAt;
    if (elapsed <= 0) return;
    this.#refilledAt = now;
    this.#tokens = Math.min(this.#capacity(), this.#tokens + (elapsed * this.#rate) / 1000);
  }
}

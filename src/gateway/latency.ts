/** How many recent latencies feed p50/p99: enough for a stable p99, small enough to sort on each status call. */
const LATENCY_WINDOW = 2048;

/** Request counters and a sliding window of latencies for one child. */
export class RequestStats {
  /** Requests answered to clients, from the child or from the cache. */
  requests = 0;
  errors = 0;
  /** Requests answered from the cache. */
  cacheHits = 0;
  readonly #window = new Float64Array(LATENCY_WINDOW);
  #filled = 0;
  #next = 0;

  /** Records one answered request. */
  record(latencyMs: number, isError: boolean): void {
    this.requests++;
    if (isError) this.errors++;
    this.#window[this.#next] = latencyMs;
    this.#next = (this.#next + 1) % LATENCY_WINDOW;
    if (this.#filled < LATENCY_WINDOW) this.#filled++;
  }

  /** Records one request answered from the cache. */
  recordHit(latencyMs: number): void {
    this.cacheHits++;
    this.record(latencyMs, false);
  }

  /** p50 and p99 of the recent window, in milliseconds rounded to 0.01. */
  percentiles(): { p50: number; p99: number } {
    if (this.#filled === 0) return { p50: 0, p99: 0 };
    const sorted = this.#window.slice(0, this.#filled).sort();
    const at = (q: number) =>
      Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

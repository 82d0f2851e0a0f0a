import { bucketIndex, LATENCY_BUCKETS_S, quantileOfBuckets } from '../metrics/index.js';

/**
 * Request counters and a latency histogram for one child (the buckets of `omnimind_request_duration_seconds`), kept
 * whether metrics are on or off: `status` reads its counts and its p50/p99 here.
 */
export class RequestStats {
  /** Requests answered to clients: by the child, from the cache, or by the gateway (shed, timed out). */
  requests = 0;
  errors = 0;
  /** Requests answered from the cache. */
  cacheHits = 0;
  /** Counts per latency bucket, cumulative from start; the last one is +Inf. */
  readonly #buckets = new Float64Array(LATENCY_BUCKETS_S.length + 1);

  /** Records one answered request: `cached` when the cache answered, `error` when the answer is an error. */
  record(latencyMs: number, outcome: 'ok' | 'cached' | 'error'): void {
    this.requests++;
    if (outcome === 'error') this.errors++;
    else if (outcome === 'cached') this.cacheHits++;
    this.#buckets[bucketIndex(latencyMs / 1000)]! += 1;
  }

  /** A copy of the cumulative bucket counts (the dashboard's ring takes per-interval percentiles from their deltas). */
  buckets(): Float64Array {
    return this.#buckets.slice();
  }

  /** p50 and p99 since start, interpolated within their buckets, in milliseconds rounded to 0.01. */
  percentiles(): { p50: number; p99: number } {
    const at = (q: number) => Math.round(quantileOfBuckets(this.#buckets, q) * 100_000) / 100;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

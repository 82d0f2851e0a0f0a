/**
 * Upper bounds of the latency histograms, in seconds: 100 µs (a cache hit) to 30 s (the default request timeout),
 * about three per decade so that an interpolated p99 is within a bucket's width of the truth.
 */
export const LATENCY_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** The index of the first bucket whose upper bound holds `seconds` (the last index for the +Inf bucket). */
export function bucketIndex(seconds: number): number {
  let low = 0;
  let high = LATENCY_BUCKETS_S.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (seconds <= (LATENCY_BUCKETS_S[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return low;
}

/**
 * The `q` quantile of per-bucket counts (one more count than bounds: +Inf), in seconds, interpolated linearly inside
 * its bucket as Prometheus's `histogram_quantile` does; 0 when nothing was counted.
 */
export function quantileOfBuckets(counts: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    if (seen + count >= rank && count > 0) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKETS_S[i - 1] as number);
      // Above the last bound nothing is known but that bound, as in Prometheus.
      if (i >= LATENCY_BUCKETS_S.length) return lower;
      const upper = LATENCY_BUCKETS_S[i] as number;
      return lower + (upper - lower) * ((rank - seen) / count);
    }
    seen += count;
  }
  return LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1] as number;
}

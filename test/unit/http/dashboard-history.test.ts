import { describe, expect, it } from 'vitest';
import { FleetHistory } from '../../../src/http/dashboard-history.js';
import { bucketIndex, LATENCY_BUCKETS_S } from '../../../src/metrics/index.js';

/** Cumulative buckets holding `count` requests of `ms` milliseconds each, added to `base`. */
function buckets(entries: Array<[ms: number, count: number]>, base?: Float64Array): Float64Array {
  const counts = base ? base.slice() : new Float64Array(LATENCY_BUCKETS_S.length + 1);
  for (const [ms, count] of entries) counts[bucketIndex(ms / 1000)]! += count;
  return counts;
}

function reading(at: number, requests: number, errors: number, counts: Float64Array, extra = {}) {
  return {
    at,
    children: [{ name: 'fx', requests, errors, cacheHits: 0, buckets: counts, rssBytes: 1000, cpuSeconds: at / 2000 }],
    cache: { hits: 0, misses: 0 },
    limiter: { queued: 0, shed: 0 },
    ...extra,
  };
}

describe('FleetHistory', () => {
  it('turns cumulative readings into rates and per-interval percentiles', () => {
    const history = new FleetHistory(180);
    const first = buckets([[1, 100]]);
    history.record(reading(0, 100, 0, first));
    expect(history.points()).toEqual([]);
    // The next interval: 50 slow requests (~2 s) and 2 errors; the 100 fast ones before must not count.
    history.record(
      reading(5_000, 150, 2, buckets([[2_000, 50]], first), {
        cache: { hits: 3, misses: 1 },
        limiter: { queued: 4, shed: 7 },
      }),
    );
    const [point] = history.points();
    expect(point!.children.fx!.rate).toBe(10);
    expect(point!.children.fx!.errorRate).toBe(0.4);
    expect(point!.children.fx!.p50).toBeGreaterThan(1_000);
    expect(point!.children.fx!.p50).toBeLessThanOrEqual(2_500);
    expect(point!.children.fx!.cpu).toBe(0.5);
    expect(point).toMatchObject({ at: 5_000, cacheHitRate: 0.75, queued: 4, shed: 7 });
  });

  it('gives null percentiles to an interval without requests, and starts anew when a counter goes back', () => {
    const history = new FleetHistory(180);
    const counts = buckets([[1, 10]]);
    history.record(reading(0, 10, 0, counts));
    history.record(reading(5_000, 10, 0, counts));
    history.record(reading(10_000, 5, 0, buckets([[1, 5]])));
    const [idle, replaced] = history.points();
    expect(idle!.children.fx).toMatchObject({ rate: 0, p50: null, p99: null });
    expect(replaced!.children.fx!.rate).toBe(1);
    expect(replaced!.children.fx!.p50).not.toBeNull();
  });

  it('keeps only the last `capacity` points', () => {
    const history = new FleetHistory(3);
    const counts = buckets([]);
    for (let i = 0; i <= 10; i++) history.record(reading(i * 5_000, 0, 0, counts));
    expect(history.points().map((p) => p.at)).toEqual([40_000, 45_000, 50_000]);
  });
});

import { describe, expect, it } from 'vitest';
import { RequestStats } from '../../../src/gateway/latency.js';
import { bucketIndex, LATENCY_BUCKETS_S, quantileOfBuckets } from '../../../src/metrics/index.js';
import { childLabel, codeLabel, methodLabel, toolLabel } from '../../../src/metrics/labels.js';
import { parentSpanContext } from '../../../src/metrics/tracing.js';

describe('latency buckets', () => {
  it('puts a latency in the first bucket whose bound holds it, and beyond the last in +Inf', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(0.0001)).toBe(0);
    expect(bucketIndex(0.00011)).toBe(1);
    expect(bucketIndex(30)).toBe(LATENCY_BUCKETS_S.length - 1);
    expect(bucketIndex(31)).toBe(LATENCY_BUCKETS_S.length);
  });

  it('interpolates a quantile inside its bucket as histogram_quantile does', () => {
    const counts = new Float64Array(LATENCY_BUCKETS_S.length + 1);
    counts[bucketIndex(0.002)] = 100; // (0.001, 0.0025]
    expect(quantileOfBuckets(counts, 0.5)).toBeCloseTo(0.00175, 6);
    expect(quantileOfBuckets(new Float64Array(counts.length), 0.99)).toBe(0);
  });

  it('gives status p50 and p99 from the buckets, counting hits and errors', () => {
    const stats = new RequestStats();
    for (let i = 0; i < 98; i++) stats.record(0.3, 'ok');
    stats.record(0.3, 'cached');
    stats.record(4000, 'error');
    expect(stats).toMatchObject({ requests: 100, errors: 1, cacheHits: 1 });
    const { p50, p99 } = stats.percentiles();
    expect(p50).toBeGreaterThan(0.25);
    expect(p50).toBeLessThanOrEqual(0.5);
    expect(p99).toBeLessThanOrEqual(0.5);
    stats.record(4000, 'error');
    expect(stats.percentiles().p99).toBeGreaterThan(2500);
  });
});

describe('labels', () => {
  it('keeps MCP methods, listed tools and omnimind codes; folds the rest into other', () => {
    expect(methodLabel('tools/call')).toBe('tools/call');
    expect(methodLabel('x/made-up')).toBe('other');
    const tools = [{ name: 'echo' }];
    expect(toolLabel('echo', tools)).toBe('echo');
    expect(toolLabel('anything', tools)).toBe('other');
    expect(toolLabel(undefined, tools)).toBe('');
    expect(childLabel('python#12')).toBe('python');
    expect(codeLabel(-32602)).toBe('-32602');
    expect(codeLabel(12345)).toBe('other');
  });
});

describe('traceparent', () => {
  const spanContext = parentSpanContext;

  it('continues a valid W3C traceparent', () => {
    expect(spanContext('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('starts a new trace for a missing or malformed one', () => {
    for (const bad of [
      undefined,
      42,
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      expect(spanContext(bad)).toBeUndefined();
    }
  });
});

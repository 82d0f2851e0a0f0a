import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS_S } from '../../../src/metrics/buckets.js';
import { codeLabel } from '../../../src/metrics/labels.js';
import type { AnsweredOutcome } from '../../../src/metrics/probe.js';
import { type RequestStart, Telemetry } from '../../../src/metrics/telemetry.js';
import { RequestTracer } from '../../../src/metrics/tracing.js';
import { parsePrometheusText, sumOf } from '../../helpers/prometheus-text.js';

const FLEET = { children: [], clients: [] };
const TOOLS = [{ name: 'echo' }, { name: 'add' }];

function start(overrides: Partial<RequestStart> = {}): RequestStart {
  return {
    endpoint: 'default',
    child: 'echo',
    method: 'tools/call',
    tool: 'echo',
    tools: TOOLS,
    priority: 'NORMAL',
    traceparent: undefined,
    ...overrides,
  };
}

/** The lines of one metric family (HELP, TYPE, samples) in an exposition, sorted. */
function familyLines(text: string, name: string): string[] {
  const block = text.split('\n\n').find((b) => b.startsWith(`# HELP ${name} `));
  if (block === undefined) throw new Error(`no ${name} in the exposition`);
  return block.trim().split('\n').sort();
}

/** The request counters and histogram as they were made with prom-client's own Counter and Histogram. */
function promClientReference() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'omnimind_requests_total',
    help: 'Requests answered to clients, by endpoint, child, method, tool, outcome (ok, cached, error, shed, timeout) and error code.',
    labelNames: ['endpoint', 'child', 'method', 'tool', 'outcome', 'code'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'omnimind_request_duration_seconds',
    help: 'Time from a request reaching omnimind to its answer (limiter wait, cache and child included), by child and method.',
    labelNames: ['child', 'method'],
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  return { registry, requests, latency };
}

describe('request metrics', () => {
  it('writes the same exposition as prom-client Counter and Histogram fed the same requests', async () => {
    const telemetry = new Telemetry({ sample: () => FLEET });
    const reference = promClientReference();
    // Latencies on bucket bounds, between them, zero and beyond the last bound (+Inf), in milliseconds.
    const latencies = [0, 0.1, 0.1000001, 0.25, 1, 2.4, 7, 99.9, 100, 1000, 29_999, 30_000, 30_001, 120_000];
    const kinds = [
      start(),
      start({ tool: 'add' }),
      start({ tool: 'not-listed' }),
      start({ method: 'resources/read', tool: undefined }),
      start({ endpoint: 'work', child: 'python#3', method: 'made/up', tool: undefined }),
    ];
    const outcomes: AnsweredOutcome[] = [
      { kind: 'result', cached: false },
      { kind: 'result', cached: true },
      { kind: 'error', error: { code: -32602 } },
      { kind: 'error', error: { code: 12345 } },
      { kind: 'error' },
    ];
    const failures = [{ code: 'SHED' }, { code: 'TIMEOUT' }, {}];
    let n = 0;
    for (let round = 0; round < 7; round++) {
      for (const kind of kinds) {
        for (const latencyMs of latencies) {
          n++;
          const child = kind.child.split('#')[0] as string;
          const method = kind.method === 'made/up' ? 'other' : kind.method;
          const tool = kind.tool === undefined ? '' : kind.tool === 'not-listed' ? 'other' : kind.tool;
          const labels = { endpoint: kind.endpoint, child, method, tool };
          const probe = telemetry.begin(kind);
          reference.latency.observe({ child, method }, latencyMs / 1000);
          if (n % 9 < 6) {
            const outcome = outcomes[n % outcomes.length] as AnsweredOutcome;
            probe?.answered(outcome, latencyMs);
            const counted =
              outcome.kind === 'error'
                ? { outcome: 'error', code: codeLabel(outcome.error?.code) }
                : { outcome: outcome.cached ? 'cached' : 'ok', code: '' };
            reference.requests.inc({ ...labels, ...counted });
          } else {
            const failure = failures[n % failures.length] as (typeof failures)[number];
            probe?.failed(failure, latencyMs);
            const outcome = failure.code === 'SHED' ? 'shed' : failure.code === 'TIMEOUT' ? 'timeout' : 'error';
            reference.requests.inc({ ...labels, outcome, code: outcome === 'error' ? '-32603' : '' });
          }
        }
      }
    }
    const ours = (await telemetry.render()) as string;
    const theirs = await reference.registry.metrics();
    for (const name of ['omnimind_requests_total', 'omnimind_request_duration_seconds']) {
      expect(familyLines(ours, name)).toEqual(familyLines(theirs, name));
    }
    expect(sumOf(parsePrometheusText(ours), 'omnimind_requests_total')).toBe(n);
  });

  it('moves the counts by exactly the requests sent, scrape after scrape', async () => {
    const telemetry = new Telemetry({ sample: () => FLEET });
    const count = async () => {
      const families = parsePrometheusText((await telemetry.render()) as string);
      return {
        ok: sumOf(families, 'omnimind_requests_total', { tool: 'echo', outcome: 'ok' }),
        cached: sumOf(families, 'omnimind_requests_total', { tool: 'echo', outcome: 'cached' }),
        latency: sumOf(families, 'omnimind_request_duration_seconds_count', { child: 'echo' }),
      };
    };
    expect(await count()).toEqual({ ok: 0, cached: 0, latency: 0 });
    for (let i = 0; i < 37; i++) telemetry.begin(start())?.answered({ kind: 'result' }, 0.5);
    expect(await count()).toEqual({ ok: 37, cached: 0, latency: 37 });
    for (let i = 0; i < 5; i++) telemetry.begin(start())?.answered({ kind: 'result', cached: true }, 0.05);
    expect(await count()).toEqual({ ok: 37, cached: 5, latency: 42 });
  });

  it('folds a tool the child stops listing into other, once its new tools list is in place', async () => {
    const telemetry = new Telemetry({ sample: () => FLEET });
    const before = [{ name: 'echo' }, { name: 'gone' }];
    telemetry.begin(start({ tool: 'gone', tools: before }))?.answered({ kind: 'result' }, 1);
    // The child re-listed its tools: a new array without `gone`.
    const after = [{ name: 'echo' }];
    for (let i = 0; i < 3; i++) telemetry.begin(start({ tool: 'gone', tools: after }))?.answered({ kind: 'result' }, 1);
    telemetry.begin(start({ tool: 'never-listed', tools: after }))?.answered({ kind: 'result' }, 1);
    const families = parsePrometheusText((await telemetry.render()) as string);
    expect(sumOf(families, 'omnimind_requests_total', { tool: 'gone' })).toBe(1);
    expect(sumOf(families, 'omnimind_requests_total', { tool: 'other' })).toBe(4);
  });

  it('gives every request of one label set the same series as its probe, whatever instance or list it came by', () => {
    const telemetry = new Telemetry({ sample: () => FLEET });
    const probe = telemetry.begin(start({ child: 'python#1' }));
    expect(telemetry.begin(start({ child: 'python#1' }))).toBe(probe);
    expect(telemetry.begin(start({ child: 'python#2', tools: [...TOOLS] }))).toBe(probe);
    expect(telemetry.begin(start({ child: 'python' }))).toBe(probe);
    expect(telemetry.begin(start({ method: 'x/one', tool: undefined }))).toBe(
      telemetry.begin(start({ method: 'x/two', tool: undefined })),
    );
    expect(telemetry.begin(start({ tool: 'add' }))).not.toBe(probe);
    expect(new Telemetry({ sample: () => FLEET, metrics: { enabled: false } }).begin(start())).toBeUndefined();
  });
});

describe('traced requests', () => {
  // Nothing listens on port 9: the spans fail to export quietly; only what the probe does is looked at here.
  const tracer = new RequestTracer({ otlpEndpoint: 'http://127.0.0.1:9' });
  afterAll(() => tracer.shutdown());

  it('tell the child their span in a copy of the params, and are counted in their series', async () => {
    const telemetry = new Telemetry({ sample: () => FLEET, tracer });
    const params = { name: 'echo', arguments: { text: 'hi' }, _meta: { progressToken: 7 } };
    const probe = telemetry.begin(start()) as NonNullable<ReturnType<Telemetry['begin']>>;
    const forwarded = probe.forwarded(params) as { _meta: Record<string, unknown> };
    expect(forwarded).toMatchObject({ name: 'echo', arguments: params.arguments });
    expect(forwarded._meta).toEqual({ progressToken: 7, traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-/) });
    expect(params._meta).toEqual({ progressToken: 7 });
    expect(probe.forwarded(undefined)).toEqual({ _meta: { traceparent: forwarded._meta.traceparent } });
    probe.answered({ kind: 'result' }, 2);
    telemetry.begin(start())?.failed({ code: 'SHED' }, 3);
    const families = parsePrometheusText((await telemetry.render()) as string);
    expect(sumOf(families, 'omnimind_requests_total', { outcome: 'ok' })).toBe(1);
    expect(sumOf(families, 'omnimind_requests_total', { outcome: 'shed' })).toBe(1);
    expect(tracer.stats().dropped).toBe(0);
  });

  it('forward exactly what a spread would, a parsed `__proto__` key and odd `_meta` values included', () => {
    const probe = new Telemetry({ sample: () => FLEET, tracer, metrics: { enabled: false } }).begin(start());
    if (probe === undefined) throw new Error('a traced request has a probe with metrics off');
    const traceparent = (probe.forwarded({}) as { _meta: { traceparent: string } })._meta.traceparent;
    for (const text of [
      '{"name":"echo","arguments":{"text":"hi"}}',
      '{"_meta":{"progressToken":"p","traceparent":"00-old"},"name":"echo"}',
      '{"__proto__":{"polluted":true},"name":"echo","_meta":{"__proto__":{"x":1},"a":1}}',
      '{"name":"echo","_meta":null}',
      '{"name":"echo","_meta":"text"}',
    ]) {
      const params = JSON.parse(text) as Record<string, unknown>;
      const forwarded = probe.forwarded(params) as Record<string, unknown>;
      const spread = { ...params, _meta: { ...(params._meta as object), traceparent } };
      expect(JSON.stringify(forwarded)).toBe(JSON.stringify(spread));
      expect(Object.getPrototypeOf(forwarded)).toBe(Object.prototype);
      expect(JSON.stringify(params)).toBe(JSON.stringify(JSON.parse(text)));
    }
  });
});

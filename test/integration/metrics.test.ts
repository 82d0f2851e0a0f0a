import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';
import { type DecodedSpan, decodeTraceRequest } from '../helpers/otlp-protobuf.js';
import { type Family, parsePrometheusText, sumOf } from '../helpers/prometheus-text.js';

type TextContent = Array<{ type: string; text: string }>;
const text = (result: unknown) => (result as { content?: TextContent }).content?.[0]?.text;

const harnesses: Harness[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function started(config: Record<string, unknown>): Promise<Harness> {
  const h = createHarness({ children: NO_BUILTINS, ...config });
  harnesses.push(h);
  const result = await h.cli(['start']);
  expect(result.code, result.stderr).toBe(0);
  return h;
}

async function scrape(h: Harness): Promise<Map<string, Family>> {
  const result = await h.cli(['metrics']);
  expect(result.code, result.stderr).toBe(0);
  return parsePrometheusText(result.stdout);
}

/** How a counter moved between two scrapes. */
function moved(before: Map<string, Family>, after: Map<string, Family>, name: string, match: Record<string, string>) {
  return sumOf(after, name, match) - sumOf(before, name, match);
}

/** An OTLP/HTTP collector that keeps the spans posted to /v1/traces (protobuf encoding, as omnimind sends them). */
async function collector(): Promise<{ url: string; spans: DecodedSpan[]; contentTypes: Set<string> }> {
  const spans: DecodedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/v1/traces') {
        contentTypes.add(String(request.headers['content-type']));
        spans.push(...decodeTraceRequest(Buffer.concat(chunks)));
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes };
}

function attribute(span: DecodedSpan, key: string): unknown {
  const found = span.attributes.find((a) => a.key === key);
  return found === undefined ? undefined : Object.values(found.value)[0];
}

describe('metrics', () => {
  it('counts every request by outcome, cached, shed and timed out ones included, in a valid exposition', async () => {
    const h = await started({
      mcpServers: {
        kv: { ...fixture(), cache: { tools: { echo: true } } },
        busy: { ...fixture(), limits: { maxConcurrency: 1 } },
      },
      limiter: { initialRps: 100_000, maxQueue: 2 },
    });
    const kv = await h.client('kv');
    const busy = await h.client('busy');
    const before = await scrape(h);
    const echo = { endpoint: 'kv', child: 'kv', method: 'tools/call', tool: 'echo' };

    for (const t of ['same', 'same', 'same', 'a', 'b']) await kv.callTool({ name: 'echo', arguments: { text: t } });
    await kv.callTool({ name: 'no-such-tool-4711', arguments: {} }).catch(() => undefined);
    await expect(
      kv.callTool({ name: 'slow', arguments: { ms: 5000 }, _meta: { timeoutMs: 200 } }),
    ).rejects.toMatchObject({ code: -32001 });

    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code?: number }) => (e.code === -32010 ? 'shed' : `other ${e.code}`),
      );
    const slow = (priority: string) =>
      outcome(busy.callTool({ name: 'slow', arguments: { ms: 300 }, _meta: { priority } }));
    const running = slow('NORMAL');
    await new Promise((r) => setTimeout(r, 50));
    const low = [slow('LOW'), slow('LOW')];
    await new Promise((r) => setTimeout(r, 50));
    const high = [slow('HIGH'), slow('HIGH')];
    expect(await Promise.all([running, ...high, ...low])).toEqual(['ok', 'ok', 'ok', 'shed', 'shed']);

    const after = await scrape(h);
    const requests = 'omnimind_requests_total';
    expect(moved(before, after, requests, { ...echo, outcome: 'ok' })).toBe(3);
    expect(moved(before, after, requests, { ...echo, outcome: 'cached' })).toBe(2);
    expect(moved(before, after, requests, { child: 'kv', tool: 'slow', outcome: 'timeout' })).toBe(1);
    expect(moved(before, after, requests, { child: 'busy', tool: 'slow', outcome: 'ok' })).toBe(3);
    expect(moved(before, after, requests, { child: 'busy', tool: 'slow', outcome: 'shed' })).toBe(2);
    // A name the child does not list is folded into `other`: labels stay bounded whatever clients send.
    expect(moved(before, after, requests, { child: 'kv', tool: 'other' })).toBe(1);
    const series = after.get(requests)!.samples;
    expect(series.some((s) => s.labels.tool === 'no-such-tool-4711')).toBe(false);
    expect(moved(before, after, 'omnimind_limiter_shed_total', { priority: 'LOW' })).toBe(2);
    expect(moved(before, after, 'omnimind_limiter_timed_out_total', { priority: 'NORMAL' })).toBe(1);
    expect(moved(before, after, 'omnimind_cache_hits_total', {})).toBe(2);
    const latency = 'omnimind_request_duration_seconds_count';
    expect(moved(before, after, latency, { child: 'kv', method: 'tools/call' })).toBe(7);
    expect(moved(before, after, latency, { child: 'busy', method: 'tools/call' })).toBe(5);
    expect(after.get('omnimind_request_duration_seconds')?.type).toBe('histogram');

    expect(sumOf(after, 'omnimind_clients', { endpoint: 'kv', transport: 'unix' })).toBe(1);
    expect(sumOf(after, 'omnimind_child_up', { child: 'kv' })).toBe(1);
    expect(sumOf(after, 'omnimind_child_state', { child: 'kv', state: 'RUNNING' })).toBe(1);
    expect(sumOf(after, 'omnimind_child_resident_memory_bytes', { child: 'kv' })).toBeGreaterThan(1_000_000);
    expect(after.get('omnimind_child_cpu_seconds_total')?.samples.length).toBe(2);
    expect(after.get('process_cpu_user_seconds_total')?.type).toBe('counter');

    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      children: Array<{ name: string; requests: number; cacheHits: number; latencyMs: { p50: number; p99: number } }>;
    };
    const kvStatus = status.children.find((c) => c.name === 'kv')!;
    expect(kvStatus.requests).toBe(7);
    expect(kvStatus.cacheHits).toBe(2);
    // The timed-out request waited 200 ms: p99 of seven is that one, read from the histogram's 0.1-0.25 s bucket.
    expect(kvStatus.latencyMs.p99).toBeGreaterThan(100);
    expect(kvStatus.latencyMs.p99).toBeLessThanOrEqual(250);
  });

  it('counts cache hits, misses and evictions by tier, exactly as the requests went', async () => {
    // Room in memory (L1) for one answer of this size only; SQLite (L2) keeps both.
    const h = await started({
      mcpServers: { kv: { ...fixture(), cache: { tools: { echo: true, slow: true } } } },
      cache: { l1MaxBytes: 5000 },
    });
    const kv = await h.client('kv');
    const a = 'a'.repeat(3000);
    const b = 'b'.repeat(3000);
    const before = await scrape(h);
    const echo = async (t: string) => expect(text(await kv.callTool({ name: 'echo', arguments: { text: t } }))).toBe(t);
    await echo(a); // L1 miss, L2 miss: loaded, kept in both tiers.
    await echo(a); // L1 hit.
    await echo(b); // L1 miss, L2 miss: loaded; to L2 only, a (asked for twice) keeps the room in L1.
    await echo(b); // L1 miss, L2 hit; asked for as often as a: still not admitted to L1.
    await echo(b); // L1 miss, L2 hit; now the more frequent: a is evicted from L1 for it.
    await echo(b); // L1 hit.
    await echo(a); // L1 miss, L2 hit.
    const after = await scrape(h);
    const tier = (name: string, t: string) => moved(before, after, name, { tier: t });
    expect(tier('omnimind_cache_hits_total', 'l1')).toBe(2);
    expect(tier('omnimind_cache_misses_total', 'l1')).toBe(5);
    expect(tier('omnimind_cache_hits_total', 'l2')).toBe(3);
    expect(tier('omnimind_cache_misses_total', 'l2')).toBe(2);
    expect(tier('omnimind_cache_evictions_total', 'l1')).toBe(1);
    expect(tier('omnimind_cache_evictions_total', 'l2')).toBe(0);
    expect(moved(before, after, 'omnimind_cache_coalesced_total', {})).toBe(0);
    expect(sumOf(after, 'omnimind_cache_entries', { tier: 'l1' })).toBe(1);
    expect(sumOf(after, 'omnimind_cache_bytes', { tier: 'l1' })).toBeGreaterThan(3000);
    expect(sumOf(after, 'omnimind_cache_bytes', { tier: 'l1' })).toBeLessThanOrEqual(5000);
    expect(sumOf(after, 'omnimind_cache_entries', { tier: 'l2' })).toBe(2);
    const requests = (outcome: string) =>
      moved(before, after, 'omnimind_requests_total', { child: 'kv', tool: 'echo', outcome });
    expect([requests('ok'), requests('cached')]).toEqual([2, 5]);

    // Two identical calls at once: the second joins the first's load, after L1 and before L2.
    const c = 'c'.repeat(10);
    const call = () => kv.callTool({ name: 'slow', arguments: { ms: 400, text: c } });
    await Promise.all([call(), call()]);
    const joined = await scrape(h);
    expect(moved(after, joined, 'omnimind_cache_coalesced_total', {})).toBe(1);
    expect(moved(after, joined, 'omnimind_cache_misses_total', { tier: 'l1' })).toBe(2);
    expect(moved(after, joined, 'omnimind_cache_misses_total', { tier: 'l2' })).toBe(1);
    expect(moved(after, joined, 'omnimind_cache_hits_total', {})).toBe(0);
  });

  it('counts the limiter running, queued, shed and timed out by priority', async () => {
    const h = await started({
      mcpServers: { busy: { ...fixture(), limits: { maxConcurrency: 2 } } },
      limiter: { initialRps: 100_000, maxQueue: 2 },
    });
    const busy = await h.client('busy');
    const before = await scrape(h);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code?: number }) => (e.code === -32010 ? 'shed' : e.code === -32001 ? 'timeout' : `other ${e.code}`),
      );
    const slow = (priority: string, ms: number, timeoutMs?: number) =>
      outcome(busy.callTool({ name: 'slow', arguments: { ms }, _meta: { priority, timeoutMs } }));
    const byPriority = (families: Map<string, Family>, name: string) =>
      Object.fromEntries(['CRITICAL', 'HIGH', 'NORMAL', 'LOW'].map((p) => [p, sumOf(families, name, { priority: p })]));

    // Two long calls fill the child's two slots (a child that answers nothing is never judged overloaded).
    const running = [slow('HIGH', 4000), slow('LOW', 4000)];
    await waitFor(async () => sumOf(await scrape(h), 'omnimind_limiter_running', {}) === 2, 20_000);
    const queuedNormal = slow('NORMAL', 10);
    const queuedCritical = slow('CRITICAL', 10, 1500);
    await waitFor(async () => sumOf(await scrape(h), 'omnimind_limiter_queued', { priority: 'NORMAL' }) === 1, 20_000);
    // The queue (maxQueue 2) is full of higher priorities: a LOW arrival is shed at once.
    expect(await slow('LOW', 10)).toBe('shed');
    const during = await scrape(h);
    expect(byPriority(during, 'omnimind_limiter_running')).toEqual({ CRITICAL: 0, HIGH: 1, NORMAL: 0, LOW: 1 });
    expect(sumOf(during, 'omnimind_limiter_queued', { priority: 'NORMAL' })).toBe(1);
    // The CRITICAL call's 1.5 s run out while it waits.
    expect(await queuedCritical).toBe('timeout');
    expect(await Promise.all([...running, queuedNormal])).toEqual(['ok', 'ok', 'ok']);

    const after = await scrape(h);
    const movedBy = (name: string) =>
      Object.fromEntries(
        ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'].map((p) => [p, moved(before, after, name, { priority: p })]),
      );
    expect(movedBy('omnimind_limiter_shed_total')).toEqual({ CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 1 });
    expect(movedBy('omnimind_limiter_timed_out_total')).toEqual({ CRITICAL: 1, HIGH: 0, NORMAL: 0, LOW: 0 });
    expect(byPriority(after, 'omnimind_limiter_running')).toEqual({ CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 });
    expect(byPriority(after, 'omnimind_limiter_queued')).toEqual({ CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 });
  });

  it('can be switched off: `omnimind metrics` says so and status still counts', async () => {
    const h = await started({ mcpServers: { kv: fixture() }, metrics: { enabled: false } });
    const kv = await h.client('kv');
    await kv.callTool({ name: 'echo', arguments: { text: 'x' } });
    const result = await h.cli(['metrics']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/metrics are off/i);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as { children: Array<{ requests: number }> };
    expect(status.children[0]?.requests).toBe(1);
  });
});

describe('traces', () => {
  it('exports one span per request, continuing the client traceparent, and tells the child its own span', async () => {
    const otlp = await collector();
    const h = await started({ mcpServers: { kv: fixture() }, tracing: { otlpEndpoint: otlp.url } });
    const kv = await h.client('kv');
    const sentFrom = BigInt(Date.now() - 1000) * 1_000_000n;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const answer = await kv.callTool({
        name: 'meta',
        arguments: {},
        _meta: { traceparent: `00-${traceId}-${parentId}-01` },
      });
      seen.push(String(JSON.parse(text(answer)!).traceparent));
    }
    seen.push(String(JSON.parse(text(await kv.callTool({ name: 'meta', arguments: {} }))!).traceparent));

    const spans = await waitFor(() => (otlp.spans.length >= 3 ? otlp.spans : undefined), 20_000);
    const after = await waitFor(async () => {
      const families = await scrape(h);
      return sumOf(families, 'omnimind_trace_spans_total', { outcome: 'exported' }) >= 3 ? families : undefined;
    }, 20_000);
    expect(sumOf(after, 'omnimind_trace_spans_total', { outcome: 'exported' })).toBe(3);
    expect(spans).toHaveLength(3);
    expect([...otlp.contentTypes]).toEqual(['application/x-protobuf']);
    const sentTo = BigInt(Date.now() + 1000) * 1_000_000n;
    for (const [i, span] of spans.entries()) {
      expect(span.name).toBe('tools/call meta');
      expect(span.serviceName).toBe('omnimind');
      // OTLP's SPAN_KIND_SERVER; times on the wall clock, around the calls, the end after the start.
      expect(span.kind).toBe(2);
      expect(span.startTimeUnixNano).toBeGreaterThan(sentFrom);
      expect(span.endTimeUnixNano).toBeGreaterThanOrEqual(span.startTimeUnixNano);
      expect(span.endTimeUnixNano).toBeLessThan(sentTo);
      expect(attribute(span, 'omnimind.endpoint')).toBe('kv');
      expect(attribute(span, 'mcp.method.name')).toBe('tools/call');
      expect(attribute(span, 'omnimind.tool')).toBe('meta');
      expect(attribute(span, 'omnimind.cache')).toBe('miss');
      expect(typeof attribute(span, 'omnimind.limiter.wait_ms')).toBe('number');
      expect(span.status.code).toBe(0);
      expect(attribute(span, 'omnimind.child')).toBe('kv');
      expect(attribute(span, 'omnimind.outcome')).toBe('ok');
      expect(attribute(span, 'omnimind.priority')).toBe('NORMAL');
      // The child got this span as its parent, in place of what the client wrote.
      expect(seen[i]).toBe(`00-${span.traceId}-${span.spanId}-01`);
    }
    expect(spans.slice(0, 2).map((s) => [s.traceId, s.parentSpanId])).toEqual([
      [traceId, parentId],
      [traceId, parentId],
    ]);
    expect(spans[2]?.traceId).not.toBe(traceId);
    expect(spans[2]?.parentSpanId).toBe('');
  });

  it('answers every request when the collector is down, and counts the spans it could not send', async () => {
    const otlp = await collector();
    const down = otlp.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const h = await started({ mcpServers: { kv: fixture() }, tracing: { otlpEndpoint: down } });
    const kv = await h.client('kv');
    for (let i = 0; i < 20; i++)
      expect(text(await kv.callTool({ name: 'echo', arguments: { text: `m${i}` } }))).toBe(`m${i}`);
    const families = await waitFor(async () => {
      const f = await scrape(h);
      return sumOf(f, 'omnimind_trace_spans_total', { outcome: 'failed' }) >= 20 ? f : undefined;
    }, 30_000);
    expect(sumOf(families, 'omnimind_trace_spans_total', { outcome: 'exported' })).toBe(0);
  });
});

describe('status --watch', () => {
  it('redraws the table on a terminal and leaves it clean on q', async () => {
    const h = await started({ mcpServers: { kv: fixture() } });
    const kv = await h.client('kv');
    await kv.callTool({ name: 'echo', arguments: { text: 'x' } });
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} status --watch`;
    const watch = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...h.env, TERM: 'xterm', COLUMNS: '200', LINES: '50' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    watch.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => watch.on('close', (code) => resolve(code)));
    const frames = () => output.split('\x1b[H\x1b[2J').length - 1;
    await waitFor(() => frames() >= 2, 20_000);
    expect(output).toContain('\x1b[?1049h');
    expect(output).toContain('\x1b[?25l');
    expect(output).toMatch(/NAME\s+STATE.*REQ\/S/);
    expect(output).toMatch(/kv\s+RUNNING/);
    watch.stdin.write('q');
    expect(await exited).toBe(0);
    expect(output.slice(output.lastIndexOf('\x1b[H\x1b[2J'))).toContain('\x1b[?25h\x1b[?1049l');
  });

  it('prints plain lines each second when not on a terminal, until interrupted', async () => {
    const h = await started({ mcpServers: { kv: fixture() } });
    const watch = spawn(process.execPath, [CLI, 'status', '--watch'], { env: h.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    watch.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => watch.on('close', (code) => resolve(code)));
    await waitFor(() => (output.match(/ kv RUNNING /g)?.length ?? 0) >= 2, 20_000);
    watch.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).not.toContain('\x1b[');
    expect(output).toMatch(/^\S+ kv RUNNING clients=0 req\/s=\d+\.\d /m);
  });
});

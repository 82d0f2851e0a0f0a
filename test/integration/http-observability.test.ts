import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS } from '../helpers/harness.js';
import { freePort } from '../helpers/http.js';
import { parsePrometheusText, sumOf } from '../helpers/prometheus-text.js';

describe('the HTTP front: /healthz, /readyz, /metrics and the traceparent header', () => {
  let h: Harness;
  let base: string;
  let admin: string;
  let scoped: string;
  let watcher: string;
  let otlpPort: number;

  beforeAll(async () => {
    const port = await freePort();
    otlpPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture(), other: fixture() },
      http: { listen: `127.0.0.1:${port}` },
      // Tracing on, its collector absent: spans are dropped, requests carry on.
      tracing: { otlpEndpoint: `http://127.0.0.1:${otlpPort}/v1/traces` },
    });
    admin = (await h.cli(['token', 'create', 'admin'])).stdout.trim();
    scoped = (await h.cli(['token', 'create', 'fx-only', '--endpoint', 'fx'])).stdout.trim();
    const created = await h.cli(['token', 'create', 'prometheus', '--metrics']);
    expect(created.code, created.stderr).toBe(0);
    watcher = created.stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });

  it('answers /healthz without a token, behind the Host check', async () => {
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
    const rebound = await new Promise<number>((resolve, reject) => {
      request(`${base}/healthz`, { headers: { Host: 'attacker.example' } }, (answer) => {
        answer.resume();
        resolve(answer.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(rebound).toBe(403);
  });

  it('answers /readyz 503 naming an eager child that is not RUNNING, then 200 once it runs', async () => {
    expect((await get('/readyz')).status).toBe(200);
    const stopped = await h.cli(['stop', 'other']);
    expect(stopped.code, stopped.stderr).toBe(0);
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ ready: false, waiting: [{ name: 'other', state: 'STOPPED' }] });
    const restarted = await h.cli(['start', 'other'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    const up = await get('/readyz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ ready: true, waiting: [] });
  });

  it('serves /metrics to a token with the metrics right only', async () => {
    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);
    expect((await get('/metrics', 'omm_not-a-token')).status).toBe(401);
    const forbidden = await get('/metrics', scoped);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { message: string } }).error.message).toContain('--metrics');
    for (const token of [watcher, admin]) {
      const response = await get('/metrics', token);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const families = parsePrometheusText(await response.text());
      expect(families.has('omnimind_child_up')).toBe(true);
      expect(sumOf(families, 'omnimind_child_up', { child: 'fx' })).toBe(1);
    }
  });

  it('keeps a metrics-only token off the MCP endpoints and the dashboard controls', async () => {
    const mcp = await fetch(`${base}/mcp/fx`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${watcher}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(mcp.status).toBe(403);
    expect((await get('/api/fleet', watcher)).status).toBe(200);
    expect((await get('/api/fleet', scoped)).status).toBe(403);
    const listed = await h.cli(['token', 'list']);
    expect(listed.stdout).toMatch(/prometheus\tmetrics\t/);
    const bad = await h.cli(['token', 'create', 'sneaky', '--endpoint', ':metrics']);
    expect(bad.code).toBe(2);
  });

  it('continues the trace of the traceparent header when _meta has none', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const client = new Client({ name: 'trace-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp/fx`), {
      requestInit: {
        headers: { Authorization: `Bearer ${admin}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      },
    });
    await client.connect(transport);
    try {
      const result = (await client.callTool({ name: 'meta', arguments: {} })) as CallToolResult;
      const meta = JSON.parse((result.content[0] as { text: string }).text) as { traceparent?: string };
      expect(meta.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(meta.traceparent).not.toContain('00f067aa0ba902b7');
    } finally {
      await client.close();
    }
  });
});

describe('http.metricsWithoutAuth', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}`, metricsWithoutAuth: true },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('serves /metrics without a token on loopback, and nothing else', async () => {
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(sumOf(parsePrometheusText(await metrics.text()), 'omnimind_child_up', { child: 'fx' })).toBe(1);
    expect((await fetch(`${base}/api/fleet`)).status).toBe(401);
    expect((await fetch(`${base}/mcp/fx`, { method: 'POST' })).status).toBe(401);
  });

  it('is refused on an address other machines reach', async () => {
    const other = createHarness({ children: NO_BUILTINS, http: { listen: '0.0.0.0:7733', metricsWithoutAuth: true } });
    try {
      const checked = await other.cli(['config', '--check']);
      expect(checked.code).toBe(1);
      expect(checked.stdout + checked.stderr).toMatch(/metricsWithoutAuth.*non-loopback/);
    } finally {
      await other.cleanup();
    }
  });
});

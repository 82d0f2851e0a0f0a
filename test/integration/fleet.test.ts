import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';
import { freePort, httpClient } from '../helpers/http.js';
import { type RedisServer, startRedis } from '../helpers/redis.js';

const MODERN = '2026-07-28';
/** Redis's bound per request in this fleet's config. */
const REDIS_TIMEOUT_MS = 100;
/**
 * A request that waited on a dead or stopped Redis instead of giving up after the timeout would take as long as the
 * outage (6 s here); this bound sits well above the timeout plus a loaded machine's delays and well below the outage.
 */
const LATENCY_BOUND_MS = 4_000;

function textOf(result: unknown): string {
  return ((result as { content?: Array<{ type: string; text?: string }> }).content ?? [])
    .map((b) => (b.type === 'text' ? b.text : ''))
    .join('');
}

/** Status of one host, read with the CLI. */
async function status(h: Harness): Promise<{
  cache: { l2: { kind: string; connected?: boolean; degraded?: number; errors?: number } };
}> {
  const result = await h.cli(['status', '--json']);
  return JSON.parse(result.stdout);
}

describe('a fleet: two supervisors, one Redis, HAProxy in front', () => {
  let redis: RedisServer;
  let a: Harness;
  let b: Harness;
  let haproxy: ChildProcess;
  let lb: string;
  const hostUrl: Record<string, string> = {};
  const clients: Array<{ close(): Promise<void> }> = [];

  /** A host's config: the shared docs child, the memory built-in, Redis as L2, the HTTP front for HAProxy. */
  function configFor(port: number, store: string) {
    return {
      children: { ...NO_BUILTINS, memory: { enabled: true } },
      mcpServers: {
        docs: { ...fixture(`--store=${store}`), cache: { shared: true, tools: { doc: true } } },
      },
      cache: { l2: { redis: { url: redis.url, keyPrefix: 'fleet:', timeoutMs: REDIS_TIMEOUT_MS } } },
      // No drainSeconds: a stopping host drains for three of HAProxy's health-check intervals by default.
      http: { listen: `127.0.0.1:${port}`, auth: 'none', allowedHosts: ['127.0.0.1'] },
    };
  }

  async function socketClient(h: Harness, child: string): Promise<Client> {
    const client = await h.client(child);
    return client;
  }

  async function modern(url: string): Promise<ModernClient> {
    const client = new ModernClient(
      { name: 'fleet-modern', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(new ModernTransport(new URL(url)));
    clients.push(client);
    return client;
  }

  async function legacy(url: string): Promise<Client> {
    const { client } = await httpClient(url, undefined);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    redis = await startRedis();
    const [portA, portB, portLb] = await Promise.all([freePort(), freePort(), freePort()]);
    a = createHarness({});
    b = createHarness({});
    const store = join(a.dir, 'docs-store.json');
    a.writeConfig(configFor(portA, store));
    b.writeConfig(configFor(portB, store));
    hostUrl.a = `http://127.0.0.1:${portA}`;
    hostUrl.b = `http://127.0.0.1:${portB}`;
    const started = await Promise.all([
      a.cli(['start'], { timeoutMs: 120_000 }),
      b.cli(['start'], { timeoutMs: 120_000 }),
    ]);
    for (const s of started) expect(s.code, s.stderr).toBe(0);
    await waitFor(async () => (await status(a)).cache.l2.connected && (await status(b)).cache.l2.connected, 20_000);

    lb = `http://127.0.0.1:${portLb}`;
    haproxy = spawn('haproxy', ['-db', '-f', join(ROOT, 'deploy', 'haproxy.cfg')], {
      env: {
        ...process.env,
        OMNIMIND_LB_BIND: `127.0.0.1:${portLb}`,
        OMNIMIND_PUBLIC_HOST: '127.0.0.1',
        OMNIMIND_HOST1: `127.0.0.1:${portA}`,
        OMNIMIND_HOST2: `127.0.0.1:${portB}`,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(async () => {
      const response = await fetch(`${lb}/readyz`).catch(() => undefined);
      return response?.status === 200;
    }, 20_000);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    haproxy?.kill('SIGKILL');
    await Promise.all([a?.cleanup(), b?.cleanup()]);
    await redis?.stop();
  }, 60_000);

  describe('the shared cache', () => {
    it("serves through B the answer a shared child gave through A, and a write through B makes A's next read fresh", async () => {
      const docsA = await socketClient(a, 'docs');
      const docsB = await socketClient(b, 'docs');
      const pidA = textOf(await docsA.callTool({ name: 'pid', arguments: {} }));
      const pidB = textOf(await docsB.callTool({ name: 'pid', arguments: {} }));
      expect(pidA).not.toBe(pidB);

      await docsA.callTool({ name: 'write', arguments: { key: 'guide', value: 'v1' } });
      const throughA = textOf(await docsA.callTool({ name: 'doc', arguments: { key: 'guide' } }));
      expect(throughA).toBe(`v1@${pidA}`);
      // B's own child would answer with its pid: the answer A's child gave is a hit through Redis.
      expect(textOf(await docsB.callTool({ name: 'doc', arguments: { key: 'guide' } }))).toBe(`v1@${pidA}`);

      await docsB.callTool({ name: 'write', arguments: { key: 'guide', value: 'v2' } });
      expect(textOf(await docsA.callTool({ name: 'doc', arguments: { key: 'guide' } }))).toBe(`v2@${pidA}`);
      expect(textOf(await docsB.callTool({ name: 'doc', arguments: { key: 'guide' } }))).toBe(`v2@${pidA}`);
    });

    it('never shares the answers of built-in children', async () => {
      const memoryA = await socketClient(a, 'memory');
      const memoryB = await socketClient(b, 'memory');
      await memoryA.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'alpha', entityType: 'topic', observations: ['only on A'] }] },
      });
      expect(textOf(await memoryA.callTool({ name: 'read_graph', arguments: {} }))).toContain('alpha');
      expect(textOf(await memoryA.callTool({ name: 'read_graph', arguments: {} }))).toContain('alpha');
      expect(textOf(await memoryB.callTool({ name: 'read_graph', arguments: {} }))).not.toContain('alpha');
      const keys = await redis.client.keys('fleet:v:*');
      const memoryKeys = keys.filter((k) => k.includes(':memory:'));
      expect(memoryKeys.length).toBeGreaterThan(0);
      for (const key of memoryKeys) expect(key).toMatch(/^fleet:v:h:/);
      expect(keys.some((k) => k.startsWith('fleet:v:s:'))).toBe(true);
    });

    it('keeps answering when Redis is killed mid-load, within the timeout, and uses it again when it is back', async () => {
      const hosts = [await socketClient(a, 'docs'), await socketClient(b, 'docs')];
      let failures = 0;
      let requests = 0;
      let slowest = 0;
      let running = true;
      const worker = async (index: number) => {
        let i = 0;
        while (running) {
          const client = hosts[(index + i) % 2]!;
          const key = `k${(index * 7 + i++) % 40}`;
          const started = performance.now();
          try {
            const result = await client.callTool({ name: 'doc', arguments: { key } });
            if (!textOf(result).includes('@')) failures++;
          } catch {
            failures++;
          }
          slowest = Math.max(slowest, performance.now() - started);
          requests++;
        }
      };
      const load = Promise.all(Array.from({ length: 6 }, (_, i) => worker(i)));
      await waitFor(() => requests > 100, 30_000);

      await redis.kill('SIGKILL');
      const before = requests;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const during = await status(a);
      expect(during.cache.l2).toMatchObject({ kind: 'redis', connected: false });
      expect(during.cache.l2.degraded).toBeGreaterThan(0);
      expect((await a.cli(['status'])).stdout).toMatch(/L2 redis unreachable \(\d+ errors, [1-9]\d* degraded\)/);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(requests - before).toBeGreaterThan(50);

      await redis.restart();
      await waitFor(async () => (await status(a)).cache.l2.connected && (await status(b)).cache.l2.connected, 20_000);
      running = false;
      expect((await a.cli(['status'])).stdout).toContain('L2 redis connected');
      await load;
      expect(failures).toBe(0);
      expect(slowest).toBeLessThan(LATENCY_BOUND_MS);

      // Recovery: an answer loaded through A is again a hit through B.
      await hosts[0]!.callTool({ name: 'write', arguments: { key: 'after', value: 'back' } });
      const pidA = textOf(await hosts[0]!.callTool({ name: 'pid', arguments: {} }));
      expect(textOf(await hosts[0]!.callTool({ name: 'doc', arguments: { key: 'after' } }))).toBe(`back@${pidA}`);
      expect(textOf(await hosts[1]!.callTool({ name: 'doc', arguments: { key: 'after' } }))).toBe(`back@${pidA}`);
    }, 120_000);
  });

  describe('behind HAProxy (deploy/haproxy.cfg as shipped)', () => {
    it('spreads 2026-07-28 requests over both supervisors', async () => {
      const client = await modern(`${lb}/mcp/docs`);
      const pids = new Set<string>();
      for (let i = 0; i < 20; i++) pids.add(textOf(await client.callTool({ name: 'pid', arguments: {} })));
      expect(pids.size).toBe(2);
    });

    it('keeps a 2025-era session on one supervisor', async () => {
      const client = await legacy(`${lb}/mcp/docs`);
      const pids = new Set<string>();
      for (let i = 0; i < 20; i++) pids.add(textOf(await client.callTool({ name: 'pid', arguments: {} })));
      expect(pids.size).toBe(1);
    });

    it('loses no 2026-07-28 read when a supervisor stops mid-load; its 2025 sessions get 404 and start again on the other', async () => {
      const session = await legacy(`${lb}/mcp/docs`);
      const sessionPid = textOf(await session.callTool({ name: 'pid', arguments: {} }));
      const direct = await legacy(`${hostUrl.a}/mcp/docs`);
      const pidOfA = textOf(await direct.callTool({ name: 'pid', arguments: {} }));
      const [stopping, survivor] = sessionPid === pidOfA ? [a, b] : [b, a];
      const stoppingUrl = sessionPid === pidOfA ? hostUrl.a : hostUrl.b;

      const readers = await Promise.all(Array.from({ length: 4 }, () => modern(`${lb}/mcp/docs`)));
      const failures: string[] = [];
      let requests = 0;
      let running = true;
      const worker = async (client: ModernClient, index: number) => {
        let i = 0;
        while (running) {
          const text = `r${index}-${i++}`;
          const started = Date.now();
          try {
            const result = await client.callTool({ name: 'echo', arguments: { text } });
            if (textOf(result) !== text) failures.push(`${text}: ${JSON.stringify(result)}`);
          } catch (error) {
            failures.push(`${text} after ${Date.now() - started} ms: ${(error as Error).message}`);
          }
          requests++;
        }
      };
      const load = Promise.all(readers.map((client, index) => worker(client, index)));
      await waitFor(() => requests > 50, 30_000);
      const stop = stopping.cli(['stop', '--timeout', '5'], { timeoutMs: 60_000 });
      // Draining: the stopping host fails its health check while it still answers.
      const draining = await waitFor(async () => {
        const answer = await fetch(`${stoppingUrl}/readyz`).catch(() => undefined);
        return answer?.status === 503 ? ((await answer.json()) as { draining?: boolean }) : undefined;
      }, 10_000);
      expect(draining.draining).toBe(true);
      const stopped = await stop;
      expect(stopped.code, stopped.stderr).toBe(0);
      const after = requests;
      await waitFor(() => requests > after + 100, 30_000);
      running = false;
      await load;
      expect(failures).toEqual([]);

      await expect(session.callTool({ name: 'pid', arguments: {} })).rejects.toThrow(/404|not found/i);
      // The same SDK client initializes a new session, through HAProxy, on the survivor.
      await session.close();
      await session.connect(new StreamableHTTPClientTransport(new URL(`${lb}/mcp/docs`)));
      const survivorPid = textOf(await session.callTool({ name: 'pid', arguments: {} }));
      expect(survivorPid).not.toBe(sessionPid);
      const survivorDocs = await socketClient(survivor, 'docs');
      expect(textOf(await survivorDocs.callTool({ name: 'pid', arguments: {} }))).toBe(survivorPid);
    }, 120_000);
  });
});

describe('private answers (cacheScope) through the HTTP front', () => {
  let h: Harness;
  const clients: Client[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h?.cleanup();
  });

  it('serves a private answer from the cache only to the token that asked for it', async () => {
    const port = await freePort();
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { docs: { ...fixture(), cache: { tools: { private_doc: true } } } },
      http: { listen: `127.0.0.1:${port}` },
    });
    const alice = (await h.cli(['token', 'create', 'alice'])).stdout.trim();
    const bob = (await h.cli(['token', 'create', 'bob'])).stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
    const connect = async (token: string) => {
      const { client } = await httpClient(`http://127.0.0.1:${port}/mcp/docs`, token);
      clients.push(client);
      return client;
    };
    const [asAlice, asBob, asAliceAgain] = [await connect(alice), await connect(bob), await connect(alice)];
    const ask = async (client: Client) => textOf(await client.callTool({ name: 'private_doc', arguments: {} }));
    expect(await ask(asAlice)).toBe('private 1');
    expect(await ask(asAliceAgain)).toBe('private 1');
    expect(await ask(asBob)).toBe('private 2');
    expect(await ask(asBob)).toBe('private 2');
    expect(await ask(asAlice)).toBe('private 1');
  }, 150_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, seedMemoryGraph, waitFor } from '../helpers/harness.js';

type TextContent = Array<{ type: string; text: string }>;
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

async function started(config: Record<string, unknown>): Promise<Harness> {
  const h = createHarness({ children: NO_BUILTINS, ...config });
  harnesses.push(h);
  const result = await h.cli(['start']);
  expect(result.code, result.stderr).toBe(0);
  return h;
}

interface Status {
  children: Array<{
    name: string;
    pid: number;
    restarts: number;
    state: string;
    lastExit: { reason: string } | null;
    cacheHits: number;
  }>;
  cache: { hits: number; misses: number; l2: { entries: number } };
  limiter: { shed: number; timedOut: number };
}

async function status(h: Harness): Promise<Status> {
  return JSON.parse((await h.cli(['status', '--json'])).stdout) as Status;
}

/** The load of the kill test: clients calling at once, kills, and answers between two kills. */
const CLIENTS_UNDER_KILL = 64;
const KILLS = 4;
const LOAD_BETWEEN_KILLS = 2_000;

const text = (result: unknown) => (result as { content?: TextContent }).content?.[0]?.text;

describe('health, cache and limiter through the gateway', () => {
  it('restarts a child that stops answering pings', async () => {
    const h = await started({
      mcpServers: { hang: fixture('--hang-after=1') },
      health: { pingIntervalMs: 200, maxMissedPings: 3 },
    });
    const before = (await status(h)).children[0]!;
    const client = await h.client('hang');
    await client.callTool({ name: 'echo', arguments: { text: 'last words' } });
    const after = await waitFor(async () => {
      const child = (await status(h)).children[0]!;
      return child.restarts > before.restarts && child.state === 'RUNNING' ? child : undefined;
    });
    expect(after.pid).not.toBe(before.pid);
    expect(after.lastExit?.reason).toBe('unresponsive');
  });

  it('caches opted-in reads, invalidates them on writes, never caches errors, and coalesces misses', async () => {
    const h = await started({
      mcpServers: { kv: { ...fixture(), cache: { tools: { read: true, slow: true, fail: true } } } },
      limiter: { initialRps: 100_000, maxQueue: 10_000 },
    });
    const client = await h.client('kv');
    await client.callTool({ name: 'write', arguments: { key: 'k', value: 'v1' } });
    expect(text(await client.callTool({ name: 'read', arguments: { key: 'k' } }))).toBe('v1');
    expect(text(await client.callTool({ name: 'read', arguments: { key: 'k' } }))).toBe('v1');
    const afterReads = await status(h);
    expect(afterReads.cache.hits).toBeGreaterThanOrEqual(1);
    expect(afterReads.children[0]?.cacheHits).toBe(afterReads.cache.hits);
    expect((await h.cli(['status'])).stdout).toMatch(/CACHE HIT\s+QUEUE\n.*kv\s+RUNNING.*\d+%\s+0/);
    await client.callTool({ name: 'write', arguments: { key: 'k', value: 'v2' } });
    expect(text(await client.callTool({ name: 'read', arguments: { key: 'k' } }))).toBe('v2');

    const failed = await client.callTool({ name: 'fail', arguments: {} });
    expect(failed.isError).toBe(true);
    const callsBefore = JSON.parse(text(await client.callTool({ name: 'stats', arguments: {} }))!).calls;
    await client.callTool({ name: 'fail', arguments: {} });
    const callsAfterFail = JSON.parse(text(await client.callTool({ name: 'stats', arguments: {} }))!).calls;
    expect(callsAfterFail).toBe(callsBefore + 1);

    const answers = await Promise.all(
      Array.from({ length: 100 }, () => client.callTool({ name: 'slow', arguments: { ms: 300, text: 'shared' } })),
    );
    expect(new Set(answers.map(text))).toEqual(new Set(['shared']));
    const callsAfterBurst = JSON.parse(text(await client.callTool({ name: 'stats', arguments: {} }))!).calls;
    expect(callsAfterBurst).toBe(callsAfterFail + 1);

    const cleared = await h.cli(['cache', 'clear', 'kv']);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(/removed \d+ cached entr/);
  });

  it('keeps L2 entries across a supervisor restart', async () => {
    const config = { mcpServers: { kv: { ...fixture(), cache: { tools: { echo: true } } } } };
    const h = await started(config);
    const first = await h.client('kv');
    expect(text(await first.callTool({ name: 'echo', arguments: { text: 'persist me' } }))).toBe('persist me');
    await first.close();
    expect((await h.cli(['stop'])).code).toBe(0);
    expect((await h.cli(['start'])).code).toBe(0);
    expect((await status(h)).cache.l2.entries).toBeGreaterThanOrEqual(1);
    const second = await h.client('kv');
    expect(text(await second.callTool({ name: 'echo', arguments: { text: 'persist me' } }))).toBe('persist me');
    expect((await status(h)).cache.hits).toBe(1);
  });

  it('times out a request with -32001 and cancels it at the child', async () => {
    const h = await started({ mcpServers: { slow: fixture() } });
    const client = await h.client('slow');
    await expect(
      client.callTool({ name: 'slow', arguments: { ms: 5000 }, _meta: { timeoutMs: 200 } }),
    ).rejects.toMatchObject({ code: -32001, data: { timeoutMs: 200 } });
    const stats = await waitFor(async () => {
      const s = JSON.parse(text(await client.callTool({ name: 'stats', arguments: {} }))!);
      return s.cancelled >= 1 ? s : undefined;
    });
    expect(stats.cancelled).toBe(1);
    expect((await status(h)).limiter.timedOut).toBe(1);
  });

  it('sheds nothing from 64 clients on the memory child while it is SIGKILLed four times, with the default config', async () => {
    const h = await started({ children: { ...NO_BUILTINS, memory: {} } });
    const seed = await h.client('memory');
    await seedMemoryGraph(seed);
    const clients = await Promise.all(Array.from({ length: CLIENTS_UNDER_KILL }, () => h.client('memory')));
    const errors = new Map<number | string, number>();
    let answered = 0;
    let stopped = false;
    const load = clients.map(async (client, c) => {
      for (let i = 0; !stopped; i++) {
        try {
          await client.callTool({ name: 'search_nodes', arguments: { query: `topic${(c + i) % 10}` } });
          answered += 1;
        } catch (error) {
          const code = (error as { code?: number }).code ?? String(error);
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    });
    const memory = async () => (await status(h)).children.find((child) => child.name === 'memory')!;
    for (let kill = 0; kill < KILLS; kill++) {
      const before = await waitFor(async () => {
        const child = await memory();
        return child.state === 'RUNNING' && answered > 0 ? child : undefined;
      }, 30_000);
      const answeredBefore = answered;
      await waitFor(() => answered >= answeredBefore + LOAD_BETWEEN_KILLS, 30_000);
      process.kill(before.pid, 'SIGKILL');
      await waitFor(async () => {
        const child = await memory();
        return child.state === 'RUNNING' && child.pid !== before.pid ? child : undefined;
      }, 30_000);
    }
    const answeredAfterKills = answered;
    await waitFor(() => answered >= answeredAfterKills + LOAD_BETWEEN_KILLS, 30_000);
    stopped = true;
    await Promise.all(load);
    expect((await memory()).restarts).toBeGreaterThanOrEqual(KILLS);
    expect(errors.get(-32010) ?? 0, JSON.stringify([...errors])).toBe(0);
    expect((await status(h)).limiter.shed).toBe(0);
    expect(answered).toBeGreaterThan(KILLS * LOAD_BETWEEN_KILLS);
  }, 120_000);

  it('sheds low priority first with -32010 when the queue reaches maxQueue', async () => {
    const h = await started({
      mcpServers: { busy: { ...fixture(), limits: { maxConcurrency: 1 } } },
      limiter: { initialRps: 100_000, maxQueue: 2 },
    });
    const client = await h.client('busy');
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { code?: number; data?: { retryAfterMs?: number } }) =>
          e.code === -32010 && (e.data?.retryAfterMs ?? 0) > 0 ? 'shed' : `other ${e.code}`,
      );
    const slow = (priority: string) =>
      outcome(client.callTool({ name: 'slow', arguments: { ms: 300 }, _meta: { priority } }));
    const running = slow('NORMAL');
    await new Promise((r) => setTimeout(r, 50));
    const low = [slow('LOW'), slow('LOW')];
    await new Promise((r) => setTimeout(r, 50));
    const high = [slow('HIGH'), slow('HIGH')];
    expect(await Promise.all([running, ...high])).toEqual(['ok', 'ok', 'ok']);
    expect(await Promise.all(low)).toEqual(['shed', 'shed']);
    expect((await status(h)).limiter.shed).toBe(2);
  });
});

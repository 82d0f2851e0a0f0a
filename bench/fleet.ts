import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { type CacheOutcome, ResponseCache } from '../src/cache/index.js';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/http.js';
import { type RedisServer, startRedis } from '../test/helpers/redis.js';
import { fmt, percentile } from './driver.js';
import { createRandom, createZipfTrace } from './random.js';
import type { BenchSection } from './types.js';

/** Distinct requests of the Zipf trace, and requests in it. */
const ZIPF_KEYS = 5_000;
const TRACE_LENGTH = 40_000;
/** Zipf exponent: 0.99, the usual stand-in for request popularity. */
const ZIPF_EXPONENT = 0.99;
/** Each host's L1: room for a tenth of the keys' answers, so L2 matters. */
const L1_BYTES = (ZIPF_KEYS / 10) * 1_300;
/** Answer size of the fake docs server. */
const ANSWER_BYTES = 1_000;
/** L2 hits timed per store. */
const LATENCY_SAMPLES = 5_000;
/** SDK clients at once and calls each makes through the HTTP fronts. */
const CLIENTS = 16;
const CALLS_PER_CLIENT = 100;

/** A host's cache with the docs child configured; `shareAs` makes it shared across hosts on Redis. */
function hostCache(dir: string, name: string, redis: RedisServer | undefined, shared: boolean, l1: number) {
  const cache = new ResponseCache({
    file: join(dir, name, 'cache.db'),
    l1MaxBytes: l1,
    l2MaxBytes: 64 * 1024 * 1024,
    ...(redis === undefined
      ? {}
      : { l2: { kind: 'redis' as const, url: redis.url, keyPrefix: 'bench:', timeoutMs: 200, instance: name } }),
  });
  cache.setPolicy('docs', { trusted: false, tools: { search: true }, ...(shared ? { shareAs: 'docs' } : {}) }, name);
  cache.noteTools('docs', [{ name: 'search' }]);
  return cache;
}

const answer = async (): Promise<CacheOutcome> => ({
  kind: 'result',
  json: JSON.stringify({ content: [{ type: 'text', text: 'x'.repeat(ANSWER_BYTES) }] }),
});

function search(cache: ResponseCache, key: number) {
  return cache.fetch('docs', 'tools/call', { name: 'search', arguments: { q: `k${key}` } }, answer);
}

/** Replays the trace, each request through the host `pick` chooses; returns the share answered from a cache. */
async function hitRatio(hosts: ResponseCache[], trace: Int32Array): Promise<number> {
  const random = createRandom(7);
  let hits = 0;
  for (const key of trace) {
    const host = hosts[Math.floor(random() * hosts.length)]!;
    if ((await search(host, key)).cached) hits++;
    // Stores to Redis are sent without waiting: let them land as they would between requests.
    if (hosts.length > 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return hits / trace.length;
}

/** Latency of L2 hits: L1 is too small to hold any answer, so every repeat is an L2 hit. */
async function l2HitLatency(cache: ResponseCache, settle: () => Promise<void>): Promise<{ p50: number; p99: number }> {
  for (let key = 0; key < 500; key++) await search(cache, key);
  cache.flush();
  await settle();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const started = performance.now();
    const outcome = await search(cache, i % 500);
    samples.push(performance.now() - started);
    if (!outcome.cached) throw new Error('an L2 latency sample missed');
  }
  return { p50: percentile(samples, 0.5) * 1000, p99: percentile(samples, 0.99) * 1000 };
}

/** Closed-loop echo calls from 2026-07-28 SDK clients against one URL; requests per second and p50/p99. */
async function throughput(url: string) {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new ModernClient(
        { name: 'bench-fleet', version: '1.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      await client.connect(new ModernTransport(new URL(url)));
      return client;
    }),
  );
  let sequence = 0;
  let errors = 0;
  const loop = async (calls: number, latencies: number[]) =>
    Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < calls; i++) {
          const started = performance.now();
          try {
            await client.callTool({ name: 'echo', arguments: { text: `f${sequence++}` } });
          } catch {
            errors++;
          }
          latencies.push(performance.now() - started);
        }
      }),
    );
  await loop(CALLS_PER_CLIENT / 10, []);
  errors = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await loop(CALLS_PER_CLIENT, latencies);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  return {
    perSecond: (CLIENTS * CALLS_PER_CLIENT) / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
  };
}

/** Starts HAProxy with deploy/haproxy.cfg in front of two HTTP fronts; resolves once it answers /readyz. */
async function startHaproxy(hosts: string[], port: number): Promise<ChildProcess> {
  const proxy = spawn('haproxy', ['-db', '-f', join(ROOT, 'deploy', 'haproxy.cfg')], {
    env: {
      ...process.env,
      OMNIMIND_LB_BIND: `127.0.0.1:${port}`,
      OMNIMIND_PUBLIC_HOST: '127.0.0.1',
      OMNIMIND_HOST1: hosts[0],
      OMNIMIND_HOST2: hosts[1],
    },
    stdio: 'ignore',
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, 20_000);
  return proxy;
}

/** Cross-host hit ratio, Redis vs SQLite L2 hits, and two supervisors behind HAProxy vs one alone. */
export async function run(): Promise<BenchSection> {
  const load = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'om-bench-fleet-'));
  const redis = await startRedis();
  const trace = createZipfTrace(ZIPF_KEYS, ZIPF_EXPONENT, TRACE_LENGTH, 42);
  const caches: ResponseCache[] = [];
  const open = (...args: Parameters<typeof hostCache>) => {
    const cache = hostCache(...args);
    caches.push(cache);
    return cache;
  };
  const connected = async (...hosts: ResponseCache[]) =>
    waitFor(() => hosts.every((h) => h.stats().l2.connected), 10_000);
  let ratios: { singleRatio: number; sharedRatio: number; ownRatio: number };
  let latency: Record<string, { p50: number; p99: number }>;
  try {
    const single = open(dir, 'single', redis, true, L1_BYTES);
    await connected(single);
    const singleRatio = await hitRatio([single], trace);
    await redis.client.flushall();
    const sharedHosts = [open(dir, 'a', redis, true, L1_BYTES), open(dir, 'b', redis, true, L1_BYTES)];
    await connected(...sharedHosts);
    const sharedRatio = await hitRatio(sharedHosts, trace);
    await redis.client.flushall();
    const ownHosts = [open(dir, 'c', redis, false, L1_BYTES), open(dir, 'd', redis, false, L1_BYTES)];
    await connected(...ownHosts);
    const ownRatio = await hitRatio(ownHosts, trace);
    ratios = { singleRatio, sharedRatio, ownRatio };

    const sqlite = open(dir, 'sqlite', undefined, false, 1);
    const onRedis = open(dir, 'redis', redis, false, 1);
    await connected(onRedis);
    latency = {
      sqlite: await l2HitLatency(sqlite, async () => {}),
      redis: await l2HitLatency(onRedis, async () => {
        await redis.client.ping();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }),
    };
  } finally {
    for (const cache of caches) cache.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const harnesses: Harness[] = ports.slice(0, 2).map((port) =>
    createHarness({
      children: NO_BUILTINS,
      mcpServers: { echo: fixture() },
      http: { listen: `127.0.0.1:${port}`, auth: 'none', allowedHosts: ['127.0.0.1'] },
    }),
  );
  let alone: Awaited<ReturnType<typeof throughput>>;
  let fleet: Awaited<ReturnType<typeof throughput>>;
  let proxy: ChildProcess | undefined;
  try {
    await Promise.all(harnesses.map((h) => h.cli(['start'], { timeoutMs: 120_000 })));
    alone = await throughput(`http://127.0.0.1:${ports[0]}/mcp/echo`);
    proxy = await startHaproxy([`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`], ports[2]!);
    fleet = await throughput(`http://127.0.0.1:${ports[2]}/mcp/echo`);
  } finally {
    proxy?.kill('SIGKILL');
    await Promise.all(harnesses.map((h) => h.cleanup()));
  }

  const { singleRatio, sharedRatio, ownRatio } = ratios;
  const pct = (value: number) => `${fmt(value * 100, 1)} %`;
  const gap = ((singleRatio - sharedRatio) / singleRatio) * 100;
  return {
    title: 'Fleet: a cache shared on Redis, and two supervisors behind HAProxy',
    command: 'npm run bench -- fleet',
    markdown: [
      `One run on a 2-core machine (1-minute load average ${fmt(load, 2)} at the start); redis-server 7 and`,
      'HAProxy 2.6 (deploy/haproxy.cfg as shipped) on loopback.',
      '',
      `**Cross-host hit ratio.** A Zipf(${ZIPF_EXPONENT}) trace of ${TRACE_LENGTH.toLocaleString('en')} reads over`,
      `${ZIPF_KEYS.toLocaleString('en')} distinct requests to a shared child (1 KB answers), each host's L1 holding a`,
      'tenth of them; every request goes to a host picked at random. Goal: two hosts sharing Redis within 5 % of one host.',
      '',
      '| setup | hit ratio |',
      '|---|---|',
      `| one host (Redis L2) | ${pct(singleRatio)} |`,
      `| two hosts, child shared (\`"cache": {"shared": true}\`) | ${pct(sharedRatio)} (${fmt(gap, 1)} % below one host) |`,
      `| two hosts, child not shared (per-host namespaces) | ${pct(ownRatio)} |`,
      '',
      `**L2 hit latency.** ${LATENCY_SAMPLES.toLocaleString('en')} \`fetch\` calls answered by L2 (L1 too small to hold`,
      'an answer), in-process, 1 KB answers; Redis over loopback TCP, one Lua call per hit.',
      '',
      '| L2 | p50 µs | p99 µs |',
      '|---|---|---|',
      `| SQLite (\`cache.db\`) | ${fmt(latency.sqlite!.p50, 0)} | ${fmt(latency.sqlite!.p99, 0)} |`,
      `| Redis | ${fmt(latency.redis!.p50, 0)} | ${fmt(latency.redis!.p99, 0)} |`,
      '',
      `**Throughput.** ${CLIENTS} SDK 2.x clients pinned to 2026-07-28, ${CALLS_PER_CLIENT} uncached echo calls each in`,
      'a closed loop (after a tenth as many to warm up). Both supervisors, HAProxy and the clients share the same two',
      'cores, so this is not the scaling of separate hosts (each adds its own cores): it shows the cost of the extra',
      "hop, and that one supervisor (one event loop) leaves part of the machine's second core to a second supervisor.",
      '',
      '| setup | requests/s | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|',
      `| one supervisor, direct | ${fmt(alone.perSecond, 0)} | ${fmt(alone.p50, 2)} | ${fmt(alone.p99, 2)} | ${alone.errors} |`,
      `| two supervisors behind HAProxy | ${fmt(fleet.perSecond, 0)} | ${fmt(fleet.p50, 2)} | ${fmt(fleet.p99, 2)} | ${fleet.errors} |`,
    ].join('\n'),
  };
}

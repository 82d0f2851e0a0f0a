import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readHints } from '../../../src/cache/hints.js';
import { type CacheOutcome, ResponseCache } from '../../../src/cache/index.js';
import { type ChildSpec, redisL2Of, validateConfig } from '../../../src/config/index.js';
import { sharedIdentity } from '../../../src/supervisor/child-scope.js';
import { type RedisServer, startRedis } from '../../helpers/redis.js';
import { makeDeferred, makeTempDir } from './helpers.js';

/** The tools of an external docs-like child: a read opted in to caching, and a write. */
const TOOLS = [{ name: 'search' }, { name: 'update' }];

let redis: RedisServer;
let temp: { dir: string; remove: () => void };
const caches: ResponseCache[] = [];

/** One host's cache on the shared Redis; `docs` is shared across hosts, `notes` is not. */
function host(name: string, timeoutMs = 200): ResponseCache {
  const cache = new ResponseCache({
    file: join(temp.dir, name, 'cache.db'),
    l2: { kind: 'redis', url: redis.url, keyPrefix: 'om-test:', timeoutMs, instance: name },
  });
  cache.setPolicy('docs', { trusted: false, tools: { search: true }, shareAs: 'docs-identity' }, `${name}-docs`);
  cache.setPolicy('notes', { trusted: false, tools: { search: true } }, `${name}-notes`);
  cache.noteTools('docs', TOOLS);
  cache.noteTools('notes', TOOLS);
  caches.push(cache);
  return cache;
}

/** A fake child that answers each call with a numbered text, counting its calls. */
function child(json = (n: number) => JSON.stringify({ content: [{ type: 'text', text: `answer ${n}` }] })) {
  const state = { calls: 0 };
  const load = async (): Promise<CacheOutcome> => ({ kind: 'result', json: json(++state.calls) });
  return { state, load };
}

function search(cache: ResponseCache, name: string, load: () => Promise<CacheOutcome>, credential?: string) {
  return cache.fetch(name, 'tools/call', { name: 'search', arguments: { q: 'x' } }, load, { credential });
}

/** Waits until stores sent to Redis without waiting have landed. */
async function settled(): Promise<void> {
  await redis.client.ping();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await redis.client.ping();
}

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

beforeEach(async () => {
  temp = makeTempDir();
  await redis.client.flushall();
});

afterEach(() => {
  for (const cache of caches.splice(0)) cache.close();
  temp.remove();
});

/** Waits until both hosts' connections to Redis are up. */
async function connected(...hosts: ResponseCache[]): Promise<void> {
  for (let i = 0; i < 500 && !hosts.every((h) => h.stats().l2.connected); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(hosts.map((h) => h.stats().l2.connected)).toEqual(hosts.map(() => true));
}

describe('Redis L2 namespaces', () => {
  it("shares a shared child's answers between hosts and keeps other children's per host", async () => {
    const a = host('a');
    const b = host('b');
    await connected(a, b);
    const docs = child();
    expect(await search(a, 'docs', docs.load)).toMatchObject({
      cached: false,
      json: expect.stringContaining('answer 1'),
    });
    await settled();
    expect(await search(b, 'docs', docs.load)).toMatchObject({
      cached: true,
      json: expect.stringContaining('answer 1'),
    });
    expect(docs.state.calls).toBe(1);

    const notes = child();
    await search(a, 'notes', notes.load);
    await settled();
    expect(await search(b, 'notes', notes.load)).toMatchObject({ cached: false });
    expect(notes.state.calls).toBe(2);

    const keys = (await redis.client.keys('om-test:v:*')).sort();
    expect(keys.filter((k) => k.startsWith('om-test:v:s:docs-identity:'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('om-test:v:h:a:notes:'))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith('om-test:v:h:b:notes:'))).toHaveLength(1);
    for (const key of keys) expect(await redis.client.pttl(key)).toBeGreaterThan(0);
  });

  it('shares by identity only an external child marked shared, whatever its working directory', () => {
    const spec = (overrides: Partial<ChildSpec>): ChildSpec => ({
      name: 'docs',
      builtin: false,
      command: 'docs-server',
      args: ['--index', 'main'],
      env: { DOCS_API: 'https://docs.example' },
      cwd: '/home/a',
      enabled: true,
      startTimeoutMs: 10_000,
      stopTimeoutMs: 5_000,
      options: { cache: { shared: true } },
      ...overrides,
    });
    const onA = sharedIdentity(spec({}));
    expect(onA).toMatch(/^[\w-]{27}$/);
    expect(sharedIdentity(spec({ cwd: '/srv/b', name: 'docs-b' }))).toBe(onA);
    expect(sharedIdentity(spec({ env: { DOCS_API: 'https://staging.example' } }))).not.toBe(onA);
    expect(sharedIdentity(spec({ args: ['--index', 'other'] }))).not.toBe(onA);
    expect(sharedIdentity(spec({ options: {} }))).toBeUndefined();
    expect(sharedIdentity(spec({ builtin: true, name: 'memory' }))).toBeUndefined();
  });

  it('reaches Redis on its unix socket too', async () => {
    const cache = new ResponseCache({
      file: join(temp.dir, 'unix', 'cache.db'),
      l2: { kind: 'redis', url: redis.socketUrl, keyPrefix: 'om-test:', instance: 'unix' },
    });
    caches.push(cache);
    cache.setPolicy('notes', { trusted: false, tools: { search: true } }, 'unix-notes');
    cache.noteTools('notes', TOOLS);
    await connected(cache);
    await search(cache, 'notes', child().load);
    await settled();
    expect(await redis.client.keys('om-test:v:h:unix:notes:*')).toHaveLength(1);
  });

  it('a write through one host makes the next read through another fresh (generation counter, no scan)', async () => {
    const a = host('a');
    const b = host('b');
    await connected(a, b);
    const docs = child();
    await search(a, 'docs', docs.load);
    expect(await search(a, 'docs', docs.load)).toMatchObject({ cached: true });
    const before = Number(await redis.client.get('om-test:g:s:docs-identity'));

    const update = async (): Promise<CacheOutcome> => ({ kind: 'result', json: '{"content":[]}' });
    await b.fetch('docs', 'tools/call', { name: 'update', arguments: {} }, update);
    expect(Number(await redis.client.get('om-test:g:s:docs-identity'))).toBeGreaterThan(before);

    expect(await search(a, 'docs', docs.load)).toMatchObject({
      cached: false,
      json: expect.stringContaining('answer 2'),
    });
    expect(docs.state.calls).toBe(2);
  });

  it('a resource update drops the cached read from Redis too', async () => {
    const a = host('a');
    await connected(a);
    const resource = child((n) => JSON.stringify({ contents: [{ uri: 'note://1', text: `v${n}` }] }));
    const read = () => a.fetch('notes', 'resources/read', { uri: 'note://1' }, resource.load);
    await read();
    await settled();
    expect(await read()).toMatchObject({ cached: true });
    a.onNotification('notes', 'notifications/resources/updated', { uri: 'note://1' });
    await settled();
    expect(await read()).toMatchObject({ cached: false, json: expect.stringContaining('v2') });
  });

  it("a shared child's new tool list (another version of the server) drops its answers on every host", async () => {
    const a = host('a');
    const b = host('b');
    await connected(a, b);
    const docs = child();
    await search(a, 'docs', docs.load);
    await settled();
    const before = await redis.client.get('om-test:g:s:docs-identity');
    b.noteTools('docs', [...TOOLS, { name: 'export' }]);
    await settled();
    expect(await redis.client.get('om-test:g:s:docs-identity')).not.toBe(before);
    expect(await search(a, 'docs', docs.load)).toMatchObject({ cached: false });
  });

  it('a generation key that expired comes back from the clock, never at an old value', async () => {
    const a = host('a');
    await connected(a);
    const docs = child();
    await search(a, 'docs', docs.load);
    await settled();
    const old = await redis.client.get('om-test:g:s:docs-identity');
    await redis.client.del('om-test:g:s:docs-identity');
    const b = host('b');
    await connected(b);
    expect(await search(b, 'docs', docs.load)).toMatchObject({ cached: false });
    expect(BigInt((await redis.client.get('om-test:g:s:docs-identity'))!)).toBeGreaterThan(BigInt(old!));
  });
});

describe('Redis down or slow', () => {
  it('answers from memory and the child within the timeout, counts it, and uses Redis again when it is back', async () => {
    const a = host('a', 100);
    await connected(a);
    const docs = child();
    await search(a, 'docs', docs.load);
    await settled();

    const errorsBefore = a.stats().l2.errors;
    await redis.kill('SIGSTOP');
    const slowStart = performance.now();
    // An L1 entry of a shared child waits for Redis's word on its generation at most the timeout, then is served.
    expect(await search(a, 'docs', docs.load)).toMatchObject({ kind: 'result', cached: true });
    const slowMs = performance.now() - slowStart;
    expect(slowMs).toBeGreaterThanOrEqual(90);
    // After a timeout Redis is left alone for a while: the next requests do not each wait for it.
    const errorsAfterTimeout = a.stats().l2.errors;
    expect(errorsAfterTimeout).toBe((errorsBefore ?? 0) + 1);
    for (let i = 0; i < 4; i++) expect(await search(a, 'docs', docs.load)).toMatchObject({ cached: true });
    expect(a.stats().l2.errors).toBe(errorsAfterTimeout);
    await redis.kill('SIGCONT');

    await redis.kill('SIGKILL');
    for (let i = 0; i < 500 && a.stats().l2.connected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(a.stats().l2.connected).toBe(false);
    const update = async (): Promise<CacheOutcome> => ({ kind: 'result', json: '{"content":[]}' });
    const written = await a.fetch('docs', 'tools/call', { name: 'update', arguments: {} }, update);
    expect(written.kind).toBe('result');
    expect(await search(a, 'docs', docs.load)).toMatchObject({ kind: 'result', cached: false });
    expect(await search(a, 'docs', docs.load)).toMatchObject({ kind: 'result', cached: true });
    expect(a.stats().l2.degraded).toBeGreaterThan(0);
    expect(a.stats().l2.errors).toBeGreaterThan(0);

    await redis.restart();
    await connected(a);
    // The bump of the write made while Redis was down is sent on reconnection, before the namespace is read again.
    for (let i = 0; i < 500 && (await redis.client.exists('om-test:g:s:docs-identity')) === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await redis.client.exists('om-test:g:s:docs-identity')).toBe(1);
    const b = host('b');
    await connected(b);
    const fresh = child();
    await search(b, 'docs', fresh.load);
    await settled();
    expect(await search(a, 'docs', fresh.load)).toMatchObject({
      cached: true,
      json: expect.stringContaining('answer 1'),
    });
    expect(fresh.state.calls).toBe(1);
  }, 30_000);
});

describe('Redis refusing writes', () => {
  it('keeps answering from memory and the child when Redis is a read-only replica, and counts it', async () => {
    const a = host('a');
    await connected(a);
    // A replica of a master that does not exist: it refuses every write, and every script that may write.
    await redis.client.call('REPLICAOF', '127.0.0.1', '9');
    try {
      const docs = child();
      expect(await search(a, 'docs', docs.load)).toMatchObject({ kind: 'result', cached: false });
      expect(await search(a, 'docs', docs.load)).toMatchObject({ kind: 'result', cached: true });
      expect(docs.state.calls).toBe(1);
      expect(a.stats().l2.errors).toBeGreaterThan(0);
      expect(a.stats().l2.degraded).toBeGreaterThan(0);
    } finally {
      await redis.client.call('REPLICAOF', 'NO', 'ONE');
    }
  });
});

describe('spec-aware caching (ttlMs, cacheScope)', () => {
  it('reads the hints of a result, and a nested or odd one only narrows', () => {
    expect(readHints('{"content":[]}')).toEqual({ ttlMs: undefined, private: false });
    expect(readHints('{"ttlMs":500,"cacheScope":"public"}')).toEqual({ ttlMs: 500, private: false });
    expect(readHints('{"ttlMs":-1,"cacheScope":"private"}')).toEqual({ ttlMs: 0, private: true });
    expect(readHints('{"ttlMs":9000,"x":{"ttlMs":10},"cacheScope":"team"}')).toEqual({ ttlMs: 10, private: true });
  });

  it('caches for at most ttlMs and never longer than the policy allows', async () => {
    let now = 1_000_000;
    const cache = new ResponseCache({ file: join(temp.dir, 'ttl', 'cache.db'), now: () => now, ttlSeconds: 10 });
    caches.push(cache);
    cache.setPolicy('docs', { trusted: false, tools: { search: true } });
    cache.noteTools('docs', TOOLS);
    const short = child((n) => JSON.stringify({ content: [{ type: 'text', text: `${n}` }], ttlMs: 1_000 }));
    await search(cache, 'docs', short.load);
    now += 900;
    expect(await search(cache, 'docs', short.load)).toMatchObject({ cached: true });
    now += 200;
    expect(await search(cache, 'docs', short.load)).toMatchObject({ cached: false });
    const long = child((n) => JSON.stringify({ content: [{ type: 'text', text: `${n}` }], ttlMs: 3_600_000 }));
    cache.clear();
    await search(cache, 'docs', long.load);
    now += 10_001;
    expect(await search(cache, 'docs', long.load)).toMatchObject({ cached: false });
    const none = child((n) => JSON.stringify({ content: [{ type: 'text', text: `${n}` }], ttlMs: 0 }));
    cache.clear();
    await search(cache, 'docs', none.load);
    expect(await search(cache, 'docs', none.load)).toMatchObject({ cached: false });
  });

  it('serves a private answer only within the credential that loaded it, even to a request joining its load', async () => {
    const cache = new ResponseCache({ file: join(temp.dir, 'private', 'cache.db') });
    caches.push(cache);
    cache.setPolicy('docs', { trusted: false, tools: { search: true } });
    cache.noteTools('docs', TOOLS);
    const privately = (n: number) =>
      JSON.stringify({ content: [{ type: 'text', text: `mine ${n}` }], ttlMs: 60_000, cacheScope: 'private' });
    const gate = makeDeferred<void>();
    let calls = 0;
    const load = async (): Promise<CacheOutcome> => {
      calls++;
      if (calls === 1) await gate.promise;
      return { kind: 'result', json: privately(calls) };
    };
    const first = search(cache, 'docs', load, 'token:alice');
    const joined = search(cache, 'docs', load, 'token:bob');
    gate.resolve();
    expect(await first).toMatchObject({ json: expect.stringContaining('mine 1') });
    expect(await joined).toMatchObject({ json: expect.stringContaining('mine 2') });
    expect(await search(cache, 'docs', load, 'token:alice')).toMatchObject({
      cached: true,
      json: expect.stringContaining('mine 1'),
    });
    expect(await search(cache, 'docs', load, 'token:carol')).toMatchObject({
      cached: false,
      json: expect.stringContaining('mine 3'),
    });
    expect(await search(cache, 'docs', load, 'token:carol')).toMatchObject({ cached: true });
    expect(calls).toBe(3);
  });

  it('keeps private answers out of Redis', async () => {
    const a = host('a');
    await connected(a);
    const secret = child((n) => JSON.stringify({ content: [{ type: 'text', text: `s${n}` }], cacheScope: 'private' }));
    await search(a, 'docs', secret.load, 'oauth:alice');
    await settled();
    expect(await redis.client.keys('om-test:v:*')).toEqual([]);
    expect(await search(a, 'docs', secret.load, 'oauth:alice')).toMatchObject({ cached: true });
    expect(await search(a, 'docs', secret.load, 'oauth:bob')).toMatchObject({ cached: false });
  });
});

describe('cache.l2 and cache.shared in the config', () => {
  it('accepts Redis as the contract writes it and refuses what it cannot use', () => {
    const redisUrl = 'redis://10.0.0.5:6379/0';
    const written = validateConfig({ cache: { l2: { redis: { url: redisUrl, keyPrefix: 'om:', timeoutMs: 50 } } } });
    expect(written.problems).toEqual([]);
    expect(redisL2Of(written.config)).toEqual({ kind: 'redis', url: redisUrl, keyPrefix: 'om:', timeoutMs: 50 });
    expect(validateConfig({ cache: { l2: { kind: 'redis', url: redisUrl } } }).problems).not.toEqual([]);
    expect(redisL2Of(validateConfig({ cache: { l2: 'sqlite' } }).config)).toBeUndefined();
    expect(validateConfig({ cache: { l2: { redis: { url: 'http://x' } } } }).problems).not.toEqual([]);
    expect(validateConfig({ cache: { l2: { redis: { url: redisUrl, timeoutMs: 0 } } } }).problems).not.toEqual([]);
    const shared = { mcpServers: { docs: { command: 'docs-server', cache: { shared: true } } } };
    expect(validateConfig(shared).problems).toEqual([]);
    expect(validateConfig({ children: { memory: { cache: { shared: true } } } }).problems).not.toEqual([]);
  });
});

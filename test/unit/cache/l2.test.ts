import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheOptions, ResponseCache } from '../../../src/cache/index.js';
import { FakeMemoryChild, MEMORY_TOOLS, makeClock, makeTempDir, textResult, waitForFlush } from './helpers.js';

let temp: { dir: string; remove: () => void };
let clock: ReturnType<typeof makeClock>;
let file: string;
let warnings: string[];
const opened: ResponseCache[] = [];

/** A cache on `file` (or another path) with the `memory` child trusted and its tools noted. */
function openCache(options: Partial<CacheOptions> = {}, tools = MEMORY_TOOLS): ResponseCache {
  const cache = new ResponseCache({
    file,
    now: clock.now,
    logger: { warn: (message) => warnings.push(message) },
    ...options,
  });
  opened.push(cache);
  cache.setPolicy('memory', { trusted: true });
  cache.noteTools('memory', tools);
  return cache;
}

/** A read-only tools/call through a cache. */
function readGraph(cache: ResponseCache, child: FakeMemoryChild, args: Record<string, unknown> = {}) {
  return cache.fetch('memory', 'tools/call', { name: 'read_graph', arguments: args }, child.loadFor('read_graph'));
}

/** Total bytes of the cache file and its companions. */
function sizeOnDisk(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) total += statSync(path + suffix).size;
  return total;
}

beforeEach(() => {
  temp = makeTempDir();
  clock = makeClock();
  file = join(temp.dir, 'cache.db');
  warnings = [];
});

afterEach(() => {
  for (const cache of opened.splice(0)) cache.close();
  temp.remove();
});

describe('L2 across restarts', () => {
  it('serves entries stored by an earlier instance, within their TTL', async () => {
    const child = new FakeMemoryChild();
    child.entities.push('alice');
    const first = openCache({ ttlSeconds: 60 });
    await readGraph(first, child);
    await readGraph(first, child, { depth: 2 });
    first.close();

    const second = openCache({ ttlSeconds: 60 });
    expect(await readGraph(second, child)).toEqual({ kind: 'result', json: textResult('alice'), cached: true });
    expect(child.count('read_graph')).toBe(2);
    // The L2 hit was promoted to L1.
    expect(second.stats().l1.entries).toBe(1);
    clock.advance(60_000);
    expect((await readGraph(second, child, { depth: 2 })).cached).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('does not bring back an answer from before a write', async () => {
    const child = new FakeMemoryChild();
    const first = openCache();
    await readGraph(first, child);
    await waitForFlush();
    await first.fetch(
      'memory',
      'tools/call',
      { name: 'create_entities', arguments: { name: 'bob' } },
      child.loadFor('create_entities', { name: 'bob' }),
    );
    first.close();

    const second = openCache();
    expect(await readGraph(second, child)).toMatchObject({ json: textResult('bob'), cached: false });
  });

  it('drops a child’s entries when its tool list changed since the last run', async () => {
    const child = new FakeMemoryChild();
    const first = openCache();
    await readGraph(first, child);
    await first.fetch('memory', 'resources/read', { uri: 'mem://a' }, async () => ({ kind: 'result', json: '{}' }));
    first.close();

    const changed = MEMORY_TOOLS.map((tool) =>
      tool.name === 'create_entities' ? { ...tool, annotations: { readOnlyHint: false, destructiveHint: true } } : tool,
    );
    const second = openCache({}, changed);
    await waitForFlush();
    expect(second.stats().l2.entries).toBe(0);
    expect((await readGraph(second, child)).cached).toBe(false);
    expect((await readGraph(second, child)).cached).toBe(true);
  });

  it('keeps the files within the cap under a 100k-entry write storm', async () => {
    const cap = 10 * 1024 * 1024;
    const cache = openCache({ l2MaxBytes: cap, l1MaxBytes: 64 * 1024 });
    let largest = 0;
    const filler = 'x'.repeat(150);
    for (let i = 0; i < 100_000; i++) {
      await cache.fetch('memory', 'tools/call', { name: 'search_nodes', arguments: { i } }, async () => ({
        kind: 'result',
        json: textResult(`${i}${filler}`),
      }));
      if (i % 250 === 0) {
        await waitForFlush();
        largest = Math.max(largest, sizeOnDisk(file));
      }
    }
    await waitForFlush();
    largest = Math.max(largest, sizeOnDisk(file));
    const stats = cache.stats();
    // No slack: the cap already includes the WAL's share, and every transaction is bounded so the WAL stays in it.
    // The files only shrink on checkpoints, so a size seen after a flush is the largest reached during it.
    expect(largest).toBeLessThanOrEqual(cap);
    expect(stats.l2.bytes).toBeLessThanOrEqual(cap);
    // The cap is used, not just respected: at least half of it holds entries.
    expect(stats.l2.entries).toBeGreaterThan(cap / 2 / 400);
    const newest = await cache.fetch('memory', 'tools/call', { name: 'search_nodes', arguments: { i: 99_999 } }, () =>
      Promise.reject(new Error('should be cached')),
    );
    expect(newest.cached).toBe(true);
  });

  it('removes an updated resource from L2, including a write of it still queued', async () => {
    const load = async () => ({ kind: 'result' as const, json: '{"contents":[]}' });
    const first = openCache();
    await first.fetch('memory', 'resources/read', { uri: 'mem://flushed' }, load);
    first.flush();
    await first.fetch('memory', 'resources/read', { uri: 'mem://queued' }, load);
    first.onNotification('memory', 'notifications/resources/updated', { uri: 'mem://flushed' });
    first.onNotification('memory', 'notifications/resources/updated', { uri: 'mem://queued' });
    first.close();
    const second = openCache();
    expect(second.stats().l2.entries).toBe(0);
    expect((await second.fetch('memory', 'resources/read', { uri: 'mem://queued' }, load)).cached).toBe(false);
  });

  it('writes queued entries out when its signal aborts', async () => {
    const child = new FakeMemoryChild();
    const controller = new AbortController();
    const first = openCache({ signal: controller.signal });
    await readGraph(first, child);
    controller.abort();
    expect(first.stats().l2).toMatchObject({ kind: 'sqlite', entries: 0, bytes: 0 });
    const second = openCache();
    expect((await readGraph(second, child)).cached).toBe(true);
  });
});

describe('L2 failures', () => {
  it('moves a corrupt file aside, starts a new one and keeps working', async () => {
    const garbage = Buffer.alloc(64 * 1024, 0x5a);
    writeFileSync(file, garbage);
    const child = new FakeMemoryChild();
    const cache = openCache();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not be read .* moved it to .*cache\.db\.corrupt-/);
    const aside = readdirSync(temp.dir).find((name) => name.startsWith('cache.db.corrupt-'));
    expect(aside).toBeDefined();
    expect(readFileSync(join(temp.dir, aside!))).toEqual(garbage);

    await readGraph(cache, child);
    cache.close();
    const reopened = openCache();
    expect((await readGraph(reopened, child)).cached).toBe(true);
  });

  it('runs from memory when the file can be neither opened nor replaced', async () => {
    writeFileSync(join(temp.dir, 'not-a-dir'), 'x');
    file = join(temp.dir, 'not-a-dir', 'cache.db');
    const child = new FakeMemoryChild();
    const cache = openCache();
    expect(warnings.join('\n')).toMatch(/caching in memory only/);
    await readGraph(cache, child);
    expect(await readGraph(cache, child)).toMatchObject({ cached: true });
    expect(cache.stats().l2).toMatchObject({ kind: 'sqlite', entries: 0, bytes: 0 });
  });

  it('leaves a file locked by another instance alone and runs from memory', async () => {
    const child = new FakeMemoryChild();
    const owner = openCache();
    await readGraph(owner, child);
    await waitForFlush();
    const intruder = openCache();
    expect(warnings).toEqual([expect.stringMatching(/locked by another process; caching in memory only/)]);
    expect(readdirSync(temp.dir).filter((name) => name.includes('corrupt'))).toEqual([]);
    expect((await readGraph(intruder, child)).cached).toBe(false);
    expect((await readGraph(owner, child)).cached).toBe(true);
  });

  it('replaces a file of another format', async () => {
    const db = new Database(file);
    db.exec('CREATE TABLE entries (k TEXT)');
    db.pragma('user_version = 99');
    db.close();
    const child = new FakeMemoryChild();
    const cache = openCache();
    expect(warnings).toEqual([expect.stringMatching(/had another format/)]);
    await readGraph(cache, child);
    await waitForFlush();
    expect(cache.stats().l2.entries).toBe(1);
  });
});

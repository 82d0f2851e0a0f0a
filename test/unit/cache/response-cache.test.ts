import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CacheOutcome, ResponseCache } from '../../../src/cache/index.js';
import {
  FakeMemoryChild,
  MEMORY_TOOLS,
  makeClock,
  makeDeferred,
  makeTempDir,
  textResult,
  waitForFlush,
} from './helpers.js';

/** The memory child's tools/list answer. */
const TOOLS_LIST_JSON = JSON.stringify({ tools: MEMORY_TOOLS });

let temp: { dir: string; remove: () => void };
let cache: ResponseCache;
let clock: ReturnType<typeof makeClock>;

/** A cache on a fresh file with the `memory` child trusted and its tools noted. */
function openCache(options: { ttlSeconds?: number } = {}): ResponseCache {
  const created = new ResponseCache({ file: join(temp.dir, 'cache.db'), now: clock.now, ...options });
  created.setPolicy('memory', { trusted: true });
  created.noteTools('memory', MEMORY_TOOLS);
  return created;
}

/** A tools/call through the cache. */
function callTool(child: FakeMemoryChild, tool: string, args: Record<string, unknown> = {}, on = cache) {
  return on.fetch('memory', 'tools/call', { name: tool, arguments: args }, child.loadFor(tool, args));
}

beforeEach(() => {
  temp = makeTempDir();
  clock = makeClock();
  cache = openCache();
});

afterEach(() => {
  cache.close();
  temp.remove();
});

describe('tools/call', () => {
  it('serves a read-only call from the cache and reads after a write see the write', async () => {
    const child = new FakeMemoryChild();
    expect(await callTool(child, 'read_graph')).toEqual({ kind: 'result', json: textResult(''), cached: false });
    expect(await callTool(child, 'read_graph')).toEqual({ kind: 'result', json: textResult(''), cached: true });
    expect(child.count('read_graph')).toBe(1);

    await callTool(child, 'create_entities', { name: 'alice' });
    const after = await callTool(child, 'read_graph');
    expect(after).toMatchObject({ json: textResult('alice'), cached: false });
    expect(child.count('read_graph')).toBe(2);
  });

  it('does not store a read that loaded while a write was running', async () => {
    const child = new FakeMemoryChild();
    const readLoad = makeDeferred<CacheOutcome>();
    const writeLoad = makeDeferred<CacheOutcome>();
    const read = cache.fetch('memory', 'tools/call', { name: 'read_graph', arguments: {} }, () => readLoad.promise);
    const write = cache.fetch(
      'memory',
      'tools/call',
      { name: 'create_entities', arguments: {} },
      () => writeLoad.promise,
    );
    readLoad.resolve({ kind: 'result', json: textResult('before') });
    await read;
    child.entities.push('bob');
    writeLoad.resolve({ kind: 'result', json: textResult('created bob') });
    await write;
    expect(cache.stats().l1.entries).toBe(0);

    const next = await callTool(child, 'read_graph');
    expect(next).toMatchObject({ json: textResult('bob'), cached: false });
  });

  it('does not let a read that starts after a write join a load that began before it', async () => {
    const child = new FakeMemoryChild();
    const firstRead = makeDeferred<CacheOutcome>();
    const pending = cache.fetch('memory', 'tools/call', { name: 'read_graph', arguments: {} }, () => firstRead.promise);
    await callTool(child, 'create_entities', { name: 'carol' });
    const fresh = await callTool(child, 'read_graph');
    expect(fresh).toMatchObject({ json: textResult('carol'), cached: false });
    firstRead.resolve({ kind: 'result', json: textResult('') });
    await pending;
    expect(await callTool(child, 'read_graph')).toMatchObject({ json: textResult('carol'), cached: true });
  });

  it('never caches isError results or JSON-RPC errors', async () => {
    let calls = 0;
    const failing = async (): Promise<CacheOutcome> => {
      calls++;
      return { kind: 'result', json: textResult('no such node', true) };
    };
    await cache.fetch('memory', 'tools/call', { name: 'search_nodes', arguments: { q: 'x' } }, failing);
    const second = await cache.fetch('memory', 'tools/call', { name: 'search_nodes', arguments: { q: 'x' } }, failing);
    expect(second.cached).toBe(false);
    expect(calls).toBe(2);

    const error = { code: -32603, message: 'boom' };
    const erroring = async (): Promise<CacheOutcome> => {
      calls++;
      return { kind: 'error', error };
    };
    expect(await cache.fetch('memory', 'tools/call', { name: 'read_graph' }, erroring)).toEqual({
      kind: 'error',
      error,
      cached: false,
    });
    await cache.fetch('memory', 'tools/call', { name: 'read_graph' }, erroring);
    expect(calls).toBe(4);
  });

  it('expires entries after the TTL, per child and per tool', async () => {
    cache.setPolicy('memory', { trusted: true, ttlSeconds: 10, tools: { search_nodes: { ttlSeconds: 100 } } });
    const child = new FakeMemoryChild();
    await callTool(child, 'read_graph');
    await callTool(child, 'search_nodes');
    clock.advance(9_999);
    expect((await callTool(child, 'read_graph')).cached).toBe(true);
    clock.advance(1);
    expect((await callTool(child, 'read_graph')).cached).toBe(false);
    expect((await callTool(child, 'search_nodes')).cached).toBe(true);
    clock.advance(90_000);
    expect((await callTool(child, 'search_nodes')).cached).toBe(false);
  });

  it('coalesces 100 concurrent identical misses into one load', async () => {
    const gate = makeDeferred<CacheOutcome>();
    let calls = 0;
    const load = () => {
      calls++;
      return gate.promise;
    };
    const answers = Array.from({ length: 100 }, () =>
      cache.fetch('memory', 'tools/call', { name: 'read_graph' }, load),
    );
    gate.resolve({ kind: 'result', json: textResult('shared') });
    const outcomes = await Promise.all(answers);
    expect(calls).toBe(1);
    expect(new Set(outcomes.map((outcome) => outcome.kind === 'result' && outcome.json))).toEqual(
      new Set([textResult('shared')]),
    );
    expect(cache.stats()).toMatchObject({ hits: 99, misses: 1, coalesced: 99 });
  });

  it('shares an error with the waiters of that load only', async () => {
    const gate = makeDeferred<CacheOutcome>();
    let calls = 0;
    const load = () => {
      calls++;
      return gate.promise;
    };
    const first = cache.fetch('memory', 'tools/call', { name: 'read_graph' }, load);
    const second = cache.fetch('memory', 'tools/call', { name: 'read_graph' }, load);
    gate.reject(new Error('child crashed'));
    await expect(first).rejects.toThrow('child crashed');
    await expect(second).rejects.toThrow('child crashed');
    const later = await cache.fetch('memory', 'tools/call', { name: 'read_graph' }, async () => {
      calls++;
      return { kind: 'result', json: textResult('recovered') };
    });
    expect(later).toMatchObject({ json: textResult('recovered'), cached: false });
    expect(calls).toBe(2);
  });

  it('does not cache unknown tools, open-world tools or stateful tools, and treats stateful ones as writes', async () => {
    cache.setPolicy('memory', { trusted: true, statefulTools: ['search_nodes'] });
    const child = new FakeMemoryChild();
    for (const tool of ['not_listed', 'fetch_url', 'search_nodes']) {
      await callTool(child, tool);
      expect((await callTool(child, tool)).cached).toBe(false);
    }
    await callTool(child, 'read_graph');
    expect((await callTool(child, 'read_graph')).cached).toBe(true);
    await callTool(child, 'search_nodes');
    expect((await callTool(child, 'read_graph')).cached).toBe(false);
  });

  it('ignores an untrusted child’s annotations unless a tool is opted in', async () => {
    const child = new FakeMemoryChild();
    const call = (tool: string) =>
      cache.fetch('external', 'tools/call', { name: tool, arguments: {} }, child.loadFor(tool));
    cache.setPolicy('external', { trusted: false });
    cache.noteTools('external', MEMORY_TOOLS);
    await call('read_graph');
    expect((await call('read_graph')).cached).toBe(false);

    cache.setPolicy('external', { trusted: false, tools: { read_graph: true, search_nodes: false } });
    await call('read_graph');
    expect((await call('read_graph')).cached).toBe(true);
    // A tool that is not opted in may write: it invalidates the opted-in results.
    await call('fetch_url');
    expect((await call('read_graph')).cached).toBe(false);
    await call('search_nodes');
    expect((await call('read_graph')).cached).toBe(false);
  });

  it('keys ignore _meta (progress tokens) and key order', async () => {
    const child = new FakeMemoryChild();
    await cache.fetch(
      'memory',
      'tools/call',
      { name: 'search_nodes', arguments: { query: 'a', limit: { max: 5, min: 1 } }, _meta: { progressToken: 1 } },
      child.loadFor('search_nodes'),
    );
    const reordered = await cache.fetch(
      'memory',
      'tools/call',
      { _meta: { progressToken: 'other' }, arguments: { limit: { min: 1, max: 5 }, query: 'a' }, name: 'search_nodes' },
      child.loadFor('search_nodes'),
    );
    expect(reordered.cached).toBe(true);
    const different = await cache.fetch(
      'memory',
      'tools/call',
      { name: 'search_nodes', arguments: { query: 'b', limit: { min: 1, max: 5 } } },
      child.loadFor('search_nodes'),
    );
    expect(different.cached).toBe(false);
  });

  it('rejects a bad policy with the option named', () => {
    expect(() => cache.setPolicy('memory', { trusted: true, ttlSeconds: -1 })).toThrow(
      'Expected `memory.cache.ttlSeconds` to be a number >= 0, got `-1`',
    );
    expect(() => new ResponseCache({ file: join(temp.dir, 'x.db'), l2MaxBytes: 10 })).toThrow(
      'Expected `l2MaxBytes` to be an integer >= 1048576, got `10`',
    );
  });
});

describe('lists, resources and restarts', () => {
  /** A counting loader for any method. */
  function makeLoader(value: () => string) {
    const counter = { calls: 0, load: async (): Promise<CacheOutcome> => ({ kind: 'result', json: value() }) };
    const load = counter.load;
    counter.load = async () => {
      counter.calls++;
      return load();
    };
    return counter;
  }

  it('caches each list until its list_changed notification', async () => {
    const tools = makeLoader(() => TOOLS_LIST_JSON);
    const prompts = makeLoader(() => '{"prompts":[]}');
    for (let i = 0; i < 2; i++) {
      await cache.fetch('memory', 'tools/list', {}, tools.load);
      await cache.fetch('memory', 'prompts/list', {}, prompts.load);
    }
    expect([tools.calls, prompts.calls]).toEqual([1, 1]);
    cache.onNotification('memory', 'notifications/tools/list_changed', undefined);
    await cache.fetch('memory', 'tools/list', {}, tools.load);
    await cache.fetch('memory', 'prompts/list', {}, prompts.load);
    expect([tools.calls, prompts.calls]).toEqual([2, 1]);
    cache.onNotification('memory', 'notifications/prompts/list_changed', undefined);
    await cache.fetch('memory', 'prompts/list', {}, prompts.load);
    expect(prompts.calls).toBe(2);
  });

  it('peeks at a valid L1 answer without loading, and at nothing the cache would not serve', async () => {
    const child = new FakeMemoryChild();
    const read = { name: 'read_graph', arguments: {} };
    expect(cache.peek('memory', 'tools/call', read)).toBeUndefined();
    await callTool(child, 'read_graph');
    const hitsBefore = cache.stats().hits;
    expect(cache.peek('memory', 'tools/call', read)).toEqual({ kind: 'result', json: textResult(''), cached: true });
    expect(cache.stats().hits).toBe(hitsBefore + 1);
    // A write invalidates it; a tool that writes is never peeked at; past its time to live it is gone.
    await callTool(child, 'create_entities', { name: 'bob' });
    expect(cache.peek('memory', 'tools/call', read)).toBeUndefined();
    expect(cache.peek('memory', 'tools/call', { name: 'create_entities', arguments: { name: 'bob' } })).toBeUndefined();
    await callTool(child, 'read_graph');
    clock.advance(10 * 60_000);
    expect(cache.peek('memory', 'tools/call', read)).toBeUndefined();
    expect(child.count('read_graph')).toBe(2);
  });

  it('never caches a method named like something every object inherits', async () => {
    for (const method of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const loader = makeLoader(() => '{"x":1}');
      await cache.fetch('memory', method, {}, loader.load);
      await cache.fetch('memory', method, {}, loader.load);
      expect(cache.peek('memory', method, {})).toBeUndefined();
      expect(loader.calls).toBe(2);
    }
  });

  it('drops a resource on resources/updated for its uri and all resources on list_changed', async () => {
    const a = makeLoader(() => '{"contents":[{"uri":"mem://a","text":"A"}]}');
    const b = makeLoader(() => '{"contents":[{"uri":"mem://b","text":"B"}]}');
    const list = makeLoader(() => '{"resources":[]}');
    const readAll = async () => {
      await cache.fetch('memory', 'resources/read', { uri: 'mem://a' }, a.load);
      await cache.fetch('memory', 'resources/read', { uri: 'mem://b', _meta: { progressToken: 3 } }, b.load);
      await cache.fetch('memory', 'resources/list', undefined, list.load);
    };
    await readAll();
    await readAll();
    expect([a.calls, b.calls, list.calls]).toEqual([1, 1, 1]);
    cache.onNotification('memory', 'notifications/resources/updated', { uri: 'mem://a' });
    await readAll();
    expect([a.calls, b.calls, list.calls]).toEqual([2, 1, 1]);
    cache.onNotification('memory', 'notifications/resources/list_changed', undefined);
    await readAll();
    expect([a.calls, b.calls, list.calls]).toEqual([3, 2, 2]);
  });

  it('does not store a resource read that was updated while it loaded', async () => {
    const gate = makeDeferred<CacheOutcome>();
    const pending = cache.fetch('memory', 'resources/read', { uri: 'mem://a' }, () => gate.promise);
    cache.onNotification('memory', 'notifications/resources/updated', { uri: 'mem://a' });
    gate.resolve({ kind: 'result', json: '{"contents":[]}' });
    await pending;
    const again = makeLoader(() => '{"contents":[{"uri":"mem://a","text":"new"}]}');
    expect((await cache.fetch('memory', 'resources/read', { uri: 'mem://a' }, again.load)).cached).toBe(false);
  });

  it('forgets a child’s lists, resources and tools when it restarts', async () => {
    const child = new FakeMemoryChild();
    const list = makeLoader(() => TOOLS_LIST_JSON);
    const resource = makeLoader(() => '{"contents":[]}');
    await cache.fetch('memory', 'tools/list', {}, list.load);
    await cache.fetch('memory', 'resources/read', { uri: 'mem://a' }, resource.load);
    await callTool(child, 'read_graph');
    cache.onChildRestart('memory');
    // Until the restarted child is listed again, its tools are unknown and not cached.
    await callTool(child, 'read_graph');
    expect((await callTool(child, 'read_graph')).cached).toBe(false);
    await cache.fetch('memory', 'resources/read', { uri: 'mem://a' }, resource.load);
    expect(resource.calls).toBe(2);
    await cache.fetch('memory', 'tools/list', {}, list.load);
    expect(list.calls).toBe(2);
    await callTool(child, 'read_graph');
    expect((await callTool(child, 'read_graph')).cached).toBe(true);
  });

  it('learns tools again from a tools/list answer after tools/list_changed', async () => {
    const child = new FakeMemoryChild();
    await callTool(child, 'read_graph');
    cache.onNotification('memory', 'notifications/tools/list_changed', undefined);
    await callTool(child, 'read_graph');
    expect((await callTool(child, 'read_graph')).cached).toBe(false);
    const listed = makeLoader(() =>
      JSON.stringify({ tools: MEMORY_TOOLS.map((tool) => ({ ...tool, inputSchema: {} })) }),
    );
    await cache.fetch('memory', 'tools/list', {}, listed.load);
    await callTool(child, 'read_graph');
    expect((await callTool(child, 'read_graph')).cached).toBe(true);
  });

  it('passes other methods through and counts entries it clears', async () => {
    const child = new FakeMemoryChild();
    const ping = makeLoader(() => '{}');
    await cache.fetch('memory', 'ping', undefined, ping.load);
    await cache.fetch('memory', 'ping', undefined, ping.load);
    expect(ping.calls).toBe(2);
    await callTool(child, 'read_graph');
    await callTool(child, 'search_nodes', { q: 1 });
    await cache.fetch('memory', 'tools/list', {}, makeLoader(() => TOOLS_LIST_JSON).load);
    await waitForFlush();
    expect(cache.stats().l2.entries).toBe(2);
    expect(cache.stats().l1.entries).toBe(3);
    expect(cache.clear('other')).toBe(0);
    expect(cache.clear('memory')).toBe(3);
    expect(cache.stats()).toMatchObject({ l1: { entries: 0, bytes: 0 }, l2: { entries: 0 } });
  });
});

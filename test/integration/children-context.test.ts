import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONTENT_CHARS, MAX_METADATA_CHARS } from '../../src/children/context/index.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { call, callJson, requireBuilt, StdioChildKit, textOf } from '../helpers/stdio-child.js';

const CHILD = builtinChildEntry('context');
const kit = new StdioChildKit('omnimind-context');
const spawnOurs = (dataDir: string) => kit.spawn(CHILD, { OMNIMIND_DATA_DIR: dataDir });

interface Context {
  id: string;
  level: string;
  content: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  score?: number;
}

interface Listing {
  total: number;
  levels: Record<string, number>;
  contexts: { id: string; level: string; chars: number; preview: string }[];
}

/** Stores a context and returns what retrieve_context later shows for it. */
async function store(client: Client, level: string, content: string, metadata?: Record<string, unknown>) {
  const receipt = await callJson<{ id: string; level: string; createdAt: string; chars: number }>(
    client,
    'store_context',
    metadata ? { level, content, metadata } : { level, content },
  );
  expect(receipt).toMatchObject({ level, chars: content.length });
  return { ...receipt, content, metadata: metadata ?? {} };
}

const retrieve = async (client: Client, args: Record<string, unknown>) =>
  (await callJson<{ contexts: Context[] }>(client, 'retrieve_context', args)).contexts;

beforeAll(() => requireBuilt(CHILD));

afterEach(() => kit.cleanup());

describe('context child', () => {
  it('stores, searches, lists and deletes contexts by level', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const build = await store(client, 'project', 'The build runs TypeScript through tsc', { file: 'package.json' });
    const tests = await store(client, 'code', 'Tests run with vitest; running tests twice is slow. Tests!');
    const task = await store(client, 'task', 'Fix the flaky socket test');
    expect(build).toMatchObject({ level: 'project', metadata: { file: 'package.json' } });

    // Stemmed word search, best bm25 first: the context saying "test" most often wins.
    const found = await retrieve(client, { query: 'testing' });
    expect(found.map((c) => c.id)).toEqual([tests.id, task.id]);
    expect(found[0]?.score).toBeTypeOf('number');
    expect((await retrieve(client, { query: 'TYPESCRIPT' })).map((c) => c.id)).toEqual([build.id]);
    expect((await retrieve(client, { query: 'test', level: 'task' })).map((c) => c.id)).toEqual([task.id]);
    expect((await retrieve(client, {})).map((c) => c.id)).toEqual([task.id, tests.id, build.id]);
    expect((await retrieve(client, { limit: 1 })).map((c) => c.id)).toEqual([task.id]);

    const listing = await callJson<Listing>(client, 'list_contexts', { limit: 2, offset: 1 });
    expect(listing.total).toBe(3);
    expect(listing.levels).toEqual({ project: 1, session: 0, task: 1, code: 1, memory: 0, audit: 0, ephemeral: 0 });
    expect(listing.contexts.map((c) => c.id)).toEqual([tests.id, build.id]);
    expect(listing.contexts[1]).toMatchObject({ chars: build.content.length, preview: build.content });

    expect(await callJson(client, 'delete_context', { id: tests.id })).toEqual({ id: tests.id, deleted: true });
    expect((await retrieve(client, { query: 'vitest' })).length).toBe(0);
    const again = await call(client, 'delete_context', { id: tests.id });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/No context with id/);
  });

  it('keeps persistent levels across a SIGKILL and never writes ephemeral contexts to disk', async () => {
    const dir = kit.tempDir();
    const first = await spawnOurs(dir);
    const marker = `ephemeral-marker-${Date.now()}`;
    await store(first.client, 'audit', 'persisted audit entry');
    const ephemeral = await store(first.client, 'ephemeral', `${marker} scratch note`);
    expect((await retrieve(first.client, { query: marker })).map((c) => c.id)).toEqual([ephemeral.id]);
    expect((await retrieve(first.client, { level: 'ephemeral' })).map((c) => c.id)).toEqual([ephemeral.id]);

    for (const file of readdirSync(dir)) {
      expect(readFileSync(join(dir, file)).includes(marker), file).toBe(false);
    }
    process.kill(first.transport.pid as number, 'SIGKILL');

    const second = await spawnOurs(dir);
    const all = await retrieve(second.client, {});
    expect(all.map((c) => [c.level, c.content])).toEqual([['audit', 'persisted audit entry']]);
  });

  it('snapshots and restores persistent contexts, by name or id, leaving ephemeral ones alone', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const kept = await store(client, 'project', 'original project notes', { v: 1 });
    const removed = await store(client, 'session', 'session notes to lose and get back');
    const snapshot = await callJson<{ snapshotId: string; name: string; contexts: number }>(
      client,
      'snapshot_context',
      { name: 'before-refactor' },
    );
    expect(snapshot).toMatchObject({ name: 'before-refactor', contexts: 2 });
    const duplicate = await call(client, 'snapshot_context', { name: 'before-refactor' });
    expect(duplicate.isError).toBe(true);
    expect(textOf(duplicate)).toMatch(/already exists/);

    await callJson(client, 'delete_context', { id: removed.id });
    await store(client, 'task', 'added after the snapshot');
    const scratch = await store(client, 'ephemeral', 'scratch survives restore');

    const restored = await callJson<{ name: string; replaced: number }>(client, 'restore_context', {
      snapshot: 'before-refactor',
    });
    expect(restored).toMatchObject({ name: 'before-refactor', replaced: 2 });
    const after = await retrieve(client, { limit: 10 });
    expect(after.map((c) => c.id).sort()).toEqual([kept.id, removed.id, scratch.id].sort());
    expect(after.find((c) => c.id === kept.id)?.metadata).toEqual({ v: 1 });
    expect((await retrieve(client, { query: 'lose' })).map((c) => c.id)).toEqual([removed.id]);
    expect((await retrieve(client, { query: 'added' })).length).toBe(0);

    await store(client, 'task', 'another change');
    await callJson(client, 'restore_context', { snapshot: snapshot.snapshotId });
    expect((await callJson<Listing>(client, 'list_contexts', {})).total).toBe(3);

    const auto = await callJson<{ name: string }>(client, 'snapshot_context', {});
    expect(auto.name).toMatch(/^snapshot-\d{4}-/);
    const snapshots = await callJson<{ snapshots: { name: string }[] }>(client, 'list_snapshots', {});
    expect(snapshots.snapshots.map((s) => s.name).sort()).toEqual([auto.name, 'before-refactor'].sort());
    await callJson(client, 'delete_snapshot', { snapshot: 'before-refactor' });
    const missing = await call(client, 'restore_context', { snapshot: 'before-refactor' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/No snapshot with id or name `before-refactor`/);
  });

  it('answers bad arguments and oversized payloads with a tool error that says what is wrong', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const bigMetadata = { blob: 'm'.repeat(MAX_METADATA_CHARS) };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['store_context', { level: 'galaxy', content: 'x' }, /level/],
      ['store_context', { level: 'task' }, /content/],
      [
        'store_context',
        { level: 'task', content: 'c'.repeat(MAX_CONTENT_CHARS + 1) },
        /content is longer than 1048576/,
      ],
      ['store_context', { level: 'task', content: 'x', metadata: bigMetadata }, /metadata is larger than 65536/],
      ['store_context', { level: 'task', content: 'x', metadata: ['not', 'an', 'object'] }, /metadata/],
      ['retrieve_context', { query: '?!' }, /no words to search for/],
      ['retrieve_context', { limit: 0 }, /limit/],
      ['list_contexts', { limit: 100_000 }, /limit is above 1000/],
      ['list_contexts', { offset: -1 }, /offset/],
      ['delete_context', { id: 'nope' }, /No context with id `nope`/],
      ['restore_context', { snapshot: '' }, /snapshot is empty/],
      ['restore_context', { snapshot: 'never-made' }, /No snapshot/],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args).slice(0, 80)}`).toBe(true);
      expect(textOf(result)).toMatch(message);
    }
    expect((await callJson<Listing>(client, 'list_contexts', {})).total).toBe(0);
  });

  it('compresses stored contexts and plain text to a budget, keeping critical lines and headers', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const filler = Array.from({ length: 300 }, (_, i) => `Line ${i} of a long and unremarkable status report.`).join(
      '\n',
    );
    const first = await store(client, 'project', `${filler}\nDECISION: ship on the 2026-12-01 release train`);
    await store(client, 'task', `${filler}\nERROR: build 4512 failed in /srv/ci/build.sh`);
    await store(client, 'audit', 'not requested');
    const compressed = await callJson<{ output: string; tokensOut: number; contexts: number; overflow: boolean }>(
      client,
      'get_compressed_context',
      { levels: ['project', 'task'], target_tokens: 400 },
    );
    expect(compressed.contexts).toBe(2);
    expect(compressed.tokensOut).toBeLessThanOrEqual(400);
    expect(compressed.output).toContain('DECISION: ship on the 2026-12-01 release train');
    expect(compressed.output).toContain('ERROR: build 4512 failed in /srv/ci/build.sh');
    expect(compressed.output).toContain(first.id);
    expect(compressed.output).not.toContain('not requested');
    const text = await callJson<{ output: string; reduction: number }>(client, 'compress_text', {
      text: `${filler}\nTODO: rotate /etc/key.pem`,
      target_tokens: 100,
    });
    expect(text.output).toContain('TODO: rotate /etc/key.pem');
    expect(text.reduction).toBeGreaterThan(0.75);
    const bad = await call(client, 'compress_text', { text: 'x', target_tokens: 0 });
    expect(bad.isError).toBe(true);
  });

  it('marks its read tools read-only and its write tools not', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const tools = (await client.listTools()).tools;
    const readOnly = tools.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name);
    expect(readOnly.sort()).toEqual([
      'compress_text',
      'get_compressed_context',
      'list_contexts',
      'list_snapshots',
      'retrieve_context',
    ]);
    expect(tools.every((t) => t.annotations?.openWorldHint === false)).toBe(true);
    expect(tools.find((t) => t.name === 'restore_context')?.annotations?.destructiveHint).toBe(true);
  });
});

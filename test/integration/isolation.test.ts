import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';

type ToolResult = { content?: Array<{ type: string; text?: string }>; isError?: boolean };

/** The text of a tool result, errors included (a refused call is an error result, not a thrown one). */
function textOf(result: unknown): string {
  return ((result as ToolResult).content ?? []).map((part) => part.text ?? '').join('\n');
}

/** A client handler that answers `roots/list` with the directories in `roots` (changeable later). */
function rootsHandler(roots: { dirs: string[] }) {
  return (client: Client) =>
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots.dirs.map((dir) => ({ uri: pathToFileURL(dir).href })),
    }));
}

describe('isolation between the clients of a shared built-in child', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = createHarness();
    base = realpathSync(h.dir);
    for (const name of ['a', 'b', 'c']) {
      mkdirSync(join(base, 'files', name), { recursive: true });
      writeFileSync(join(base, 'files', name, 'secret.txt'), `secret of ${name}`);
    }
    h.writeConfig({ children: { ...NO_BUILTINS, filesystem: { roots: [join(base, 'files')] } } });
    expect((await h.cli(['start'])).code).toBe(0);
  });
  afterAll(async () => await h.cleanup());

  it('never answers one client from what another client was allowed to read', async () => {
    const rootsA = { dirs: [join(base, 'files', 'a')] };
    const rootsB = { dirs: [join(base, 'files', 'b')] };
    const a = await h.client('filesystem', { roots: { listChanged: true } }, rootsHandler(rootsA));
    const b = await h.client('filesystem', { roots: { listChanged: true } }, rootsHandler(rootsB));
    const secretA = join(base, 'files', 'a', 'secret.txt');
    for (let round = 0; round < 3; round++) {
      expect(textOf(await a.callTool({ name: 'read_text_file', arguments: { path: secretA } }))).toBe('secret of a');
      const stolen = await b.callTool({ name: 'read_text_file', arguments: { path: secretA } });
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).not.toContain('secret of a');
      // Naming A's roots in its own request's _meta changes nothing: the gateway writes the roots a child sees.
      const forged = await b.callTool({
        name: 'read_text_file',
        arguments: { path: secretA },
        _meta: { 'omnimind/roots': [pathToFileURL(join(base, 'files', 'a')).href] },
      });
      expect(forged.isError).toBe(true);
      expect(textOf(forged)).not.toContain('secret of a');
      const listing = await b.callTool({ name: 'list_directory', arguments: { path: join(base, 'files', 'a') } });
      expect(listing.isError).toBe(true);
      expect(textOf(listing)).not.toContain('secret.txt');
    }
    const allowedA = textOf(await a.callTool({ name: 'list_allowed_directories', arguments: {} }));
    const allowedB = textOf(await b.callTool({ name: 'list_allowed_directories', arguments: {} }));
    expect(allowedA).toContain(join(base, 'files', 'a'));
    expect(allowedA).not.toContain(join(base, 'files', 'b'));
    expect(allowedB).toContain(join(base, 'files', 'b'));
    expect(allowedB).not.toContain(join(base, 'files', 'a'));
  });

  it('binds each client to its own roots: a change by one never moves another', async () => {
    const rootsA = { dirs: [join(base, 'files', 'a')] };
    const rootsB = { dirs: [join(base, 'files', 'b')] };
    const a = await h.client('filesystem', { roots: { listChanged: true } }, rootsHandler(rootsA));
    const b = await h.client('filesystem', { roots: { listChanged: true } }, rootsHandler(rootsB));
    const plain = await h.client('filesystem');
    const read = (client: Client, name: string) =>
      client.callTool({ name: 'read_text_file', arguments: { path: join(base, 'files', name, 'secret.txt') } });

    rootsB.dirs = [join(base, 'files', 'c')];
    await b.sendRootsListChanged();
    // B moves to c once its new roots are known; A and the client without roots never move.
    for (let i = 0; i < 50 && textOf(await read(b, 'c')) !== 'secret of c'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(textOf(await read(b, 'c'))).toBe('secret of c');
    expect((await read(b, 'b')).isError).toBe(true);
    expect(textOf(await read(a, 'a'))).toBe('secret of a');
    expect((await read(a, 'c')).isError).toBe(true);
    expect((await read(a, 'b')).isError).toBe(true);
    // A client that declared no roots gets the configured ones, whatever the others declared.
    for (const name of ['a', 'b', 'c']) expect(textOf(await read(plain, name))).toBe(`secret of ${name}`);
    await a.close();
    await b.close();
    for (const name of ['a', 'b', 'c']) expect(textOf(await read(plain, name))).toBe(`secret of ${name}`);
  });

  it('keeps a client with roots outside the configured ones from reaching anything', async () => {
    const outside = { dirs: ['/etc'] };
    const client = await h.client('filesystem', { roots: {} }, rootsHandler(outside));
    const result = await client.callTool({ name: 'read_text_file', arguments: { path: '/etc/hostname' } });
    expect(result.isError).toBe(true);
    const inside = await client.callTool({
      name: 'read_text_file',
      arguments: { path: join(base, 'files', 'a', 'secret.txt') },
    });
    expect(inside.isError).toBe(true);
  });
});

describe('isolation between the clients of a shared external child', () => {
  let h: Harness;
  beforeAll(async () => {
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { kv: { ...fixture(), cache: { tools: { slow: true, echo: true } } } },
    });
    expect((await h.cli(['start'])).code).toBe(0);
  });
  afterAll(async () => await h.cleanup());

  /** A client whose sampling handler answers with its own tag and counts how often it was asked. */
  async function sampler(tag: string): Promise<{ client: Client; asked: () => number }> {
    let asked = 0;
    const client = await h.client('kv', { sampling: {} }, (c) =>
      c.setRequestHandler(CreateMessageRequestSchema, async () => {
        asked++;
        return { role: 'assistant', model: 'test', content: { type: 'text', text: `answered by ${tag}` } };
      }),
    );
    return { client, asked: () => asked };
  }

  it('never delivers a sampling request to a client it cannot be attributed to', async () => {
    const a = await sampler('A');
    const b = await sampler('B');
    for (let trial = 0; trial < 20; trial++) {
      // A has a request in flight while B's call makes the child sample: nothing is guessed.
      const busy = a.client.callTool({ name: 'slow', arguments: { ms: 400, text: `busy-${trial}` } });
      await new Promise((r) => setTimeout(r, 50));
      const result = await b.client.callTool({ name: 'sample', arguments: { prompt: `p${trial}` } });
      expect(textOf(result)).not.toContain('answered by A');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('attributed');
      expect(textOf(await busy)).toBe(`busy-${trial}`);
    }
    expect(a.asked()).toBe(0);
    // Alone in flight, B is asked, and only B.
    for (let trial = 0; trial < 5; trial++) {
      expect(textOf(await b.client.callTool({ name: 'sample', arguments: { prompt: 'x' } }))).toBe('answered by B');
    }
    expect(a.asked()).toBe(0);
    expect(b.asked()).toBe(5);
  });

  it('answers a roots/list no single client can be asked with the configured roots', async () => {
    const a = await h.client('kv', { roots: {} }, rootsHandler({ dirs: ['/a-client-root'] }));
    const b = await h.client('kv', { roots: {} }, rootsHandler({ dirs: ['/b-client-root'] }));
    const busy = a.callTool({ name: 'slow', arguments: { ms: 400, text: 'busy' } });
    await new Promise((r) => setTimeout(r, 50));
    const roots = JSON.parse(textOf(await b.callTool({ name: 'roots', arguments: {} }))) as Array<{ uri: string }>;
    expect(roots.map((r) => r.uri)).toEqual([pathToFileURL(h.dir).href]);
    await busy;
    const alone = JSON.parse(textOf(await b.callTool({ name: 'roots', arguments: {} }))) as Array<{ uri: string }>;
    expect(alone.map((r) => r.uri)).toEqual(['file:///b-client-root']);
  });

  /** Starts the same cacheable slow read from two clients, so they share one flight at the child. */
  async function sharedFlight(text: string) {
    const a = await h.client('kv');
    const b = await h.client('kv');
    const before = JSON.parse(textOf(await b.callTool({ name: 'stats', arguments: {} }))) as { cancelled: number };
    return { a, b, before, args: { name: 'slow', arguments: { ms: 1200, text } } };
  }

  it('keeps a shared flight going when one of its waiters cancels', async () => {
    const { a, b, before, args } = await sharedFlight('cancel-one');
    const controller = new AbortController();
    const first = a.callTool(args, undefined, { signal: controller.signal });
    const second = b.callTool(args);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await expect(first).rejects.toThrow();
    expect(textOf(await second)).toBe('cancel-one');
    const after = JSON.parse(textOf(await b.callTool({ name: 'stats', arguments: {} }))) as { cancelled: number };
    expect(after.cancelled).toBe(before.cancelled);
  });

  it('keeps a shared flight going when one of its waiters disconnects', async () => {
    const { a, b, args } = await sharedFlight('disconnect-one');
    const first = a.callTool(args).catch((error: unknown) => error);
    const second = b.callTool(args);
    await new Promise((r) => setTimeout(r, 200));
    await a.close();
    await first;
    expect(textOf(await second)).toBe('disconnect-one');
  });

  it('gives each waiter of a shared flight its own timeout', async () => {
    const { a, b, args } = await sharedFlight('timeout-one');
    const first = a.callTool({ ...args, _meta: { timeoutMs: 150 } });
    const second = b.callTool(args);
    await expect(first).rejects.toMatchObject({ code: -32001 });
    expect(textOf(await second)).toBe('timeout-one');
  });

  it('cancels a shared flight at the child once every waiter has given up', async () => {
    const { a, b, before, args } = await sharedFlight('cancel-all');
    const controllers = [new AbortController(), new AbortController()];
    const calls = [a, b].map((client, i) =>
      client.callTool(args, undefined, { signal: controllers[i]!.signal }).catch(() => 'aborted'),
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const controller of controllers) controller.abort();
    expect(await Promise.all(calls)).toEqual(['aborted', 'aborted']);
    const stats = async () =>
      JSON.parse(textOf(await b.callTool({ name: 'stats', arguments: {} }))) as { cancelled: number };
    for (let i = 0; i < 50 && (await stats()).cancelled === before.cancelled; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await stats()).cancelled).toBe(before.cancelled + 1);
  });
});

describe('cached answers never outlive the configuration that produced them', () => {
  let h: Harness;
  afterAll(async () => await h.cleanup());

  it('drops the filesystem child cache when its roots change across a restart', async () => {
    h = createHarness();
    const base = realpathSync(h.dir);
    mkdirSync(join(base, 'tree', 'inner'), { recursive: true });
    writeFileSync(join(base, 'tree', 'top.txt'), 'top secret');
    const top = join(base, 'tree', 'top.txt');
    h.writeConfig({ children: { ...NO_BUILTINS, filesystem: { roots: [join(base, 'tree')] } } });
    expect((await h.cli(['start'])).code).toBe(0);
    let client = await h.client('filesystem');
    expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: top } }))).toBe('top secret');
    await client.close();
    expect((await h.cli(['stop'])).code).toBe(0);

    h.writeConfig({ children: { ...NO_BUILTINS, filesystem: { roots: [join(base, 'tree', 'inner')] } } });
    expect((await h.cli(['start'])).code).toBe(0);
    client = await h.client('filesystem');
    const again = await client.callTool({ name: 'read_text_file', arguments: { path: top } });
    expect(again.isError).toBe(true);
    expect(textOf(again)).not.toContain('top secret');
    const allowed = textOf(await client.callTool({ name: 'list_allowed_directories', arguments: {} }));
    expect(allowed).toContain(join(base, 'tree', 'inner'));
    expect(allowed).not.toContain(`${join(base, 'tree')}\n`);
    await client.close();
    expect((await h.cli(['stop'])).code).toBe(0);
  });

  it('drops the sqlite child cache when it is pointed at another database across a restart', async () => {
    const base = realpathSync(h.dir);
    for (const name of ['first', 'second']) {
      const db = new Database(join(base, `${name}.db`));
      db.exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('${name} database')`);
      db.close();
    }
    const query = { name: 'read_query', arguments: { query: 'SELECT v FROM t' } };
    h.writeConfig({ children: { ...NO_BUILTINS, sqlite: { database: join(base, 'first.db') } } });
    expect((await h.cli(['start'])).code).toBe(0);
    let client = await h.client('sqlite');
    expect(textOf(await client.callTool(query))).toContain('first database');
    await client.close();
    expect((await h.cli(['stop'])).code).toBe(0);

    h.writeConfig({ children: { ...NO_BUILTINS, sqlite: { database: join(base, 'second.db') } } });
    expect((await h.cli(['start'])).code).toBe(0);
    client = await h.client('sqlite');
    const answer = textOf(await client.callTool(query));
    expect(answer).toContain('second database');
    expect(answer).not.toContain('first database');
  });
});

/** Pids of live processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

const TINY_STATEFUL = join(ROOT, 'test', 'fixtures', 'children', 'tiny-stateful.mjs');

describe('per-client isolation', () => {
  let h: Harness;
  let marker: string;
  beforeAll(async () => {
    h = createHarness();
    marker = `--marker=${h.dir}`;
    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: {
        stateful: {
          command: process.execPath,
          args: [TINY_STATEFUL, marker],
          isolation: 'per-client',
          maxInstances: 200,
        },
      },
    });
    expect((await h.cli(['start'])).code).toBe(0);
  });
  afterAll(async () => await h.cleanup());

  it('gives every client its own process, so none sees another one’s state', async () => {
    const a = await h.client('stateful');
    const b = await h.client('stateful');
    await a.callTool({ name: 'write', arguments: { key: 'k', value: 'written by A' } });
    await b.callTool({ name: 'write', arguments: { key: 'other', value: 'written by B' } });
    expect(textOf(await a.callTool({ name: 'read', arguments: { key: 'k' } }))).toBe('written by A');
    expect(textOf(await b.callTool({ name: 'read', arguments: { key: 'k' } }))).toBe('');
    expect(textOf(await a.callTool({ name: 'read', arguments: { key: 'other' } }))).toBe('');
    const pidA = textOf(await a.callTool({ name: 'pid', arguments: {} }));
    const pidB = textOf(await b.callTool({ name: 'pid', arguments: {} }));
    expect(pidA).not.toBe(pidB);
    const status = JSON.parse((await h.cli(['status', '--json', 'stateful'])).stdout) as {
      children: Array<{ name: string; state: string; clients: number }>;
    };
    expect(status.children.map((c) => c.state)).toEqual(['RUNNING', 'RUNNING']);
    expect(status.children.every((c) => c.name.startsWith('stateful#') && c.clients === 1)).toBe(true);
    await a.close();
    await b.close();
    await waitFor(() => processesWith(marker).length === 0);
  });

  it('leaves no process behind when 100 clients connect and leave', async () => {
    for (let wave = 0; wave < 4; wave++) {
      const clients = await Promise.all(Array.from({ length: 25 }, () => h.client('stateful')));
      const pids = await Promise.all(
        clients.map(async (c) => textOf(await c.callTool({ name: 'pid', arguments: {} }))),
      );
      expect(new Set(pids).size).toBe(25);
      // Half leave politely, half vanish (their socket is simply destroyed).
      await Promise.all(clients.map((c, i) => (i % 2 === 0 ? c.close() : c.transport?.close())));
    }
    await waitFor(() => processesWith(marker).length === 0, 30_000);
    const status = JSON.parse((await h.cli(['status', '--json', 'stateful'])).stdout) as { children: unknown[] };
    expect(status.children).toEqual([]);
  }, 120_000);

  it('stops every process of the child with `omnimind stop <child>`, and with the supervisor', async () => {
    const clients = await Promise.all(Array.from({ length: 3 }, () => h.client('stateful')));
    for (const c of clients) await c.callTool({ name: 'pid', arguments: {} });
    expect(processesWith(marker).length).toBe(3);
    expect((await h.cli(['stop', 'stateful'])).code).toBe(0);
    expect(processesWith(marker)).toEqual([]);
    const more = await Promise.all(Array.from({ length: 3 }, () => h.client('stateful')));
    for (const c of more) await c.callTool({ name: 'pid', arguments: {} });
    expect((await h.cli(['stop'])).code).toBe(0);
    await waitFor(() => processesWith(marker).length === 0);
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ARRAY_ITEMS, MAX_STRING_CHARS, runMemoryTransfer } from '../../src/children/memory/index.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { call, requireBuilt, StdioChildKit, textOf } from '../helpers/stdio-child.js';

const CHILD = builtinChildEntry('memory');
const kit = new StdioChildKit('omnimind-memory');
const REFERENCE = resolve('node_modules/@modelcontextprotocol/server-memory/dist/index.js');

const spawnOurs = (dataDir: string) => kit.spawn(CHILD, { OMNIMIND_DATA_DIR: dataDir });
const spawnReference = (file: string) => kit.spawn(REFERENCE, { MEMORY_FILE_PATH: file });

/** What a result means, independent of formatting: the error flag, the parsed text and the structured content. */
function meaning(result: CallToolResult): unknown {
  const text = textOf(result);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain-text results (the delete tools) compare as text
  }
  return { isError: result.isError ?? false, parsed, structured: result.structuredContent ?? null };
}

interface Graph {
  entities: { name: string; entityType: string; observations: string[] }[];
  relations: { from: string; to: string; relationType: string }[];
}

/** A graph with entities and relations sorted, for comparing search results as sets. */
function asSet(value: unknown): Graph {
  const graph = value as Graph;
  const key = (r: Graph['relations'][number]) => `${r.from}\u0000${r.to}\u0000${r.relationType}`;
  return {
    entities: [...graph.entities].sort((a, b) => a.name.localeCompare(b.name)),
    relations: [...graph.relations].sort((a, b) => key(a).localeCompare(key(b))),
  };
}

const SCRIPT: [string, Record<string, unknown>][] = [
  ['read_graph', {}],
  [
    'create_entities',
    {
      entities: [
        { name: 'Alice', entityType: 'person', observations: ['Likes green tea', 'Works at Acme', 'likes green tea'] },
        { name: 'Bob', entityType: 'person', observations: [] },
        { name: 'Acme', entityType: 'organization', observations: ['Makes anvils', 'Founded 1949'] },
        { name: 'Ünïcode Café', entityType: 'place', observations: ['Serves CRÈME brûlée', 'Ωμέγα 100%_off "deal"'] },
      ],
    },
  ],
  ['create_entities', { entities: [{ name: 'Alice', entityType: 'robot', observations: ['ignored'] }] }],
  [
    'create_relations',
    {
      relations: [
        { from: 'Alice', to: 'Acme', relationType: 'works at' },
        { from: 'Bob', to: 'Alice', relationType: 'knows' },
        { from: 'Alice', to: 'Nobody', relationType: 'imagines' },
      ],
    },
  ],
  ['create_relations', { relations: [{ from: 'Alice', to: 'Acme', relationType: 'works at' }] }],
  [
    'add_observations',
    {
      observations: [
        { entityName: 'Bob', contents: ['Drinks coffee', 'Drinks coffee'] },
        { entityName: 'Alice', contents: ['Works at Acme', 'Plays chess'] },
      ],
    },
  ],
  ['add_observations', { observations: [{ entityName: 'Ghost', contents: ['boo'] }] }],
  ['search_nodes', { query: 'TEA' }],
  ['search_nodes', { query: 'a' }],
  ['search_nodes', { query: 'ac' }],
  ['search_nodes', { query: 'acme' }],
  ['search_nodes', { query: '' }],
  ['search_nodes', { query: 'crème' }],
  ['search_nodes', { query: 'ΩΜΈΓΑ' }],
  ['search_nodes', { query: '100%_' }],
  ['search_nodes', { query: '"deal"' }],
  ['search_nodes', { query: 'person' }],
  ['search_nodes', { query: 'tea works' }],
  ['search_nodes', { query: 'zzz' }],
  ['open_nodes', { names: ['Alice', 'Ghost'] }],
  ['open_nodes', { names: [] }],
  ['delete_observations', { deletions: [{ entityName: 'Alice', observations: ['likes green tea', 'not there'] }] }],
  ['delete_observations', { deletions: [{ entityName: 'Ghost', observations: ['x'] }] }],
  ['delete_relations', { relations: [{ from: 'Bob', to: 'Alice', relationType: 'knows' }] }],
  ['delete_entities', { entityNames: ['Acme', 'Ghost'] }],
  ['read_graph', {}],
  ['create_entities', { entities: [{ name: 'Acme', entityType: 'organization', observations: ['Reborn'] }] }],
  ['search_nodes', { query: 'acme' }],
  ['read_graph', {}],
];

beforeAll(() => requireBuilt(CHILD));

afterEach(() => kit.cleanup());

describe('memory child', () => {
  it('offers the same tools and gives the same results as the reference server for a scripted session', async () => {
    const dir = kit.tempDir();
    const ours = await spawnOurs(dir);
    const reference = await spawnReference(join(dir, 'reference.jsonl'));

    const ourTools = (await ours.client.listTools()).tools;
    const theirTools = (await reference.client.listTools()).tools;
    expect(ourTools.map((t) => t.name).sort()).toEqual(theirTools.map((t) => t.name).sort());
    for (const tool of ourTools) {
      const theirs = theirTools.find((t) => t.name === tool.name);
      expect(Object.keys(tool.inputSchema.properties ?? {})).toEqual(Object.keys(theirs?.inputSchema.properties ?? {}));
      expect(tool.inputSchema.required).toEqual(theirs?.inputSchema.required);
    }

    for (const [name, args] of SCRIPT) {
      const mine = meaning(await call(ours.client, name, args)) as { parsed: unknown; structured: unknown };
      const theirs = meaning(await call(reference.client, name, args)) as { parsed: unknown; structured: unknown };
      if (name === 'search_nodes' && typeof mine.parsed === 'object') {
        // Ranked by bm25 here, in creation order there: the same set either way.
        expect(
          { ...mine, parsed: asSet(mine.parsed), structured: asSet(mine.structured) },
          `${name} ${JSON.stringify(args)}`,
        ).toEqual({
          ...theirs,
          parsed: asSet(theirs.parsed),
          structured: asSet(theirs.structured),
        });
      } else {
        expect(mine, `${name} ${JSON.stringify(args)}`).toEqual(theirs);
      }
    }

    const resource = async (c: Client) =>
      JSON.parse(((await c.readResource({ uri: 'memory://knowledge-graph' })).contents[0] as { text: string }).text);
    expect(await resource(ours.client)).toEqual(await resource(reference.client));
  });

  it('ranks entities that match in their name above those that match in an observation', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    await call(client, 'create_entities', {
      entities: [
        { name: 'Notes', entityType: 'doc', observations: ['mentions kubernetes once'] },
        { name: 'Kubernetes', entityType: 'tool', observations: ['container orchestration'] },
      ],
    });
    const result = await call(client, 'search_nodes', { query: 'kubernetes' });
    expect((result.structuredContent as unknown as Graph).entities.map((e) => e.name)).toEqual(['Kubernetes', 'Notes']);
  });

  it('notifies a subscribed client when the graph resource changes', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const updated = new Promise<string>((resolveUpdate) => {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) =>
        resolveUpdate(notification.params.uri),
      );
    });
    await client.subscribeResource({ uri: 'memory://knowledge-graph' });
    await call(client, 'create_entities', { entities: [{ name: 'N', entityType: 't', observations: [] }] });
    expect(await updated).toBe('memory://knowledge-graph');
  });

  it('keeps every committed change when the child is killed with SIGKILL', async () => {
    const dir = kit.tempDir();
    const first = await spawnOurs(dir);
    await call(first.client, 'create_entities', {
      entities: [{ name: 'Durable', entityType: 'fact', observations: ['survives kill -9'] }],
    });
    await call(first.client, 'create_relations', {
      relations: [{ from: 'Durable', to: 'Durable', relationType: 'is' }],
    });
    const pid = first.transport.pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');

    const second = await spawnOurs(dir);
    const graph = (await call(second.client, 'read_graph', {})).structuredContent;
    expect(graph).toEqual({
      entities: [{ name: 'Durable', entityType: 'fact', observations: ['survives kill -9'] }],
      relations: [{ from: 'Durable', to: 'Durable', relationType: 'is' }],
    });
  });

  it('answers bad arguments with a tool error that says what is wrong, and changes nothing', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['create_entities', {}, /entities/],
      ['create_entities', { entities: [{ name: 'A', entityType: 7, observations: [] }] }, /entityType/],
      ['create_entities', { entities: 'A' }, /entities/],
      ['search_nodes', { query: 42 }, /query/],
      ['open_nodes', { names: [null] }, /names/],
      ['create_entities', { entities: [{ name: 'bad \ud800', entityType: 't', observations: [] }] }, /lone surrogate/],
      [
        'add_observations',
        {
          observations: [
            { entityName: 'Nobody', contents: ['x'] },
            { entityName: 'Also nobody', contents: ['y'] },
          ],
        },
        /Entity with name Nobody not found/,
      ],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(message);
    }
    await call(client, 'create_entities', { entities: [{ name: 'Real', entityType: 't', observations: [] }] });
    const partial = await call(client, 'add_observations', {
      observations: [
        { entityName: 'Real', contents: ['kept only if the whole call succeeds'] },
        { entityName: 'Missing', contents: ['x'] },
      ],
    });
    expect(partial.isError).toBe(true);
    const graph = (await call(client, 'read_graph', {})).structuredContent as unknown as Graph;
    expect(graph.entities).toEqual([{ name: 'Real', entityType: 't', observations: [] }]);
  });

  it('refuses strings over 1 MiB and arrays over 10,000 items', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const long = 'x'.repeat(MAX_STRING_CHARS + 1);
    const tooLong = await call(client, 'create_entities', {
      entities: [{ name: 'Big', entityType: 't', observations: [long] }],
    });
    expect(tooLong.isError).toBe(true);
    expect(textOf(tooLong)).toMatch(/longer than 1048576 characters/);

    const tooMany = await call(client, 'open_nodes', { names: Array.from({ length: MAX_ARRAY_ITEMS + 1 }, String) });
    expect(tooMany.isError).toBe(true);
    expect(textOf(tooMany)).toMatch(/more than 10000 items/);

    const atLimit = await call(client, 'create_entities', {
      entities: [{ name: 'Big', entityType: 't', observations: ['y'.repeat(MAX_STRING_CHARS)] }],
    });
    expect(atLimit.isError).toBeFalsy();
    const found = (await call(client, 'search_nodes', { query: 'yyy' })).structuredContent as unknown as Graph;
    expect(found.entities.map((e) => e.name)).toEqual(['Big']);
  });

  it('imports the reference server JSONL file and exports one the reference server reads back', async () => {
    const dir = kit.tempDir();
    const referenceFile = join(dir, 'reference.jsonl');
    const reference = await spawnReference(referenceFile);
    for (const [name, args] of SCRIPT) await call(reference.client, name, args);
    const referenceGraph = (await call(reference.client, 'read_graph', {})).structuredContent as unknown as Graph;
    expect(referenceGraph.entities.length).toBeGreaterThan(0);

    const dataDir = join(dir, 'data');
    expect(runMemoryTransfer('import', referenceFile, dataDir)).toEqual({
      entities: referenceGraph.entities.length,
      relations: referenceGraph.relations.length,
    });
    // Importing twice merges: nothing is duplicated.
    runMemoryTransfer('import', referenceFile, dataDir);
    const ours = await spawnOurs(dataDir);
    expect((await call(ours.client, 'read_graph', {})).structuredContent).toEqual(referenceGraph);

    await call(ours.client, 'add_observations', { observations: [{ entityName: 'Bob', contents: ['Exported'] }] });
    const exported = join(dir, 'exported.jsonl');
    expect(runMemoryTransfer('export', exported, dataDir)).toEqual({
      entities: referenceGraph.entities.length,
      relations: referenceGraph.relations.length,
    });
    const readBack = await spawnReference(exported);
    const readBackGraph = (await call(readBack.client, 'read_graph', {})).structuredContent;
    expect(readBackGraph).toEqual((await call(ours.client, 'read_graph', {})).structuredContent);
    expect(readFileSync(exported, 'utf8').split('\n')[0]).toMatch(/^\{"type":"entity","name":/);
  });

  it('rejects a malformed JSONL file as a whole, naming the line', () => {
    const dir = kit.tempDir();
    const file = join(dir, 'broken.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ type: 'entity', name: 'Fine', entityType: 't', observations: [] }),
        JSON.stringify({ type: 'entity', name: 'Broken', entityType: 't' }),
      ].join('\n'),
    );
    expect(() => runMemoryTransfer('import', file, join(dir, 'data'))).toThrow(/broken\.jsonl:2: an entity needs/);
    const empty = join(dir, 'empty.jsonl');
    expect(runMemoryTransfer('export', empty, join(dir, 'data'))).toEqual({ entities: 0, relations: 0 });
    expect(readFileSync(empty, 'utf8')).toBe('');
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, NO_BUILTINS } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

describe('omnimind memory import / export', () => {
  it("moves a reference server's JSONL graph in and out, and the running child serves it", async () => {
    const h = createHarness({ children: { ...NO_BUILTINS, memory: {} } });
    harnesses.push(h);
    const source = join(h.dir, 'memory.jsonl');
    writeFileSync(
      source,
      [
        { type: 'entity', name: 'Ada', entityType: 'person', observations: ['wrote the first program'] },
        { type: 'entity', name: 'Engine', entityType: 'machine', observations: [] },
        { type: 'relation', from: 'Ada', to: 'Engine', relationType: 'programmed' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    expect((await h.cli(['start'])).code).toBe(0);
    const client = await h.client('memory');
    expect(
      ((await client.callTool({ name: 'read_graph', arguments: {} })).structuredContent as { entities: unknown[] })
        .entities,
    ).toEqual([]);
    const imported = await h.cli(['memory', 'import', source]);
    expect(imported).toMatchObject({ code: 0 });
    expect(imported.stdout).toContain('2 entities and 1 relations imported');
    const graph = (await client.callTool({ name: 'read_graph', arguments: {} })).structuredContent as {
      entities: Array<{ name: string }>;
      relations: unknown[];
    };
    expect(graph.entities.map((e) => e.name).sort()).toEqual(['Ada', 'Engine']);
    expect(graph.relations).toHaveLength(1);
    const target = join(h.dir, 'out.jsonl');
    expect((await h.cli(['memory', 'export', target])).code).toBe(0);
    const lines = readFileSync(target, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.filter((l) => l.type === 'entity')).toHaveLength(2);
    expect(lines.filter((l) => l.type === 'relation')).toHaveLength(1);
    const bad = join(h.dir, 'bad.jsonl');
    writeFileSync(bad, '{"type":"entity","name":"x"\n');
    const refused = await h.cli(['memory', 'import', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bad.jsonl:1');
  });
});

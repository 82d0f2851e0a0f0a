import { resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_THOUGHT_CHARS } from '../../src/children/thinking/index.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { call, callJson, requireBuilt, StdioChildKit, textOf } from '../helpers/stdio-child.js';

const CHILD = builtinChildEntry('thinking');
const kit = new StdioChildKit('omnimind-thinking', { DISABLE_THOUGHT_LOGGING: 'true' });
const REFERENCE = resolve('node_modules/@modelcontextprotocol/server-sequential-thinking/dist/index.js');
const TOOL = 'sequentialthinking';

const spawnOurs = (dataDir: string) => kit.spawn(CHILD, { OMNIMIND_DATA_DIR: dataDir });

function thought(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { thought: `step ${n}`, thoughtNumber: n, totalThoughts: 3, nextThoughtNeeded: true, ...extra };
}

const SCRIPT: Record<string, unknown>[] = [
  thought(1),
  { thought: 'string arguments', thoughtNumber: '2', totalThoughts: '1', nextThoughtNeeded: 'TRUE' },
  thought(3, { branchFromThought: 1, branchId: 'alternative' }),
  thought(4, { branchFromThought: 2, branchId: 'second' }),
  thought(5, { branchFromThought: 2, branchId: 'alternative' }),
  thought(6, { branchId: 'no-branch-point' }),
  thought(2, { isRevision: 'false', revisesThought: 1 }),
  thought(7, { isRevision: true, revisesThought: 3, needsMoreThoughts: true, nextThoughtNeeded: false }),
  thought(0),
  thought(1, { nextThoughtNeeded: 'maybe' }),
  { thoughtNumber: 1, totalThoughts: 1, nextThoughtNeeded: true },
  thought(8, { totalThoughts: -1 }),
  thought(9),
];

interface Receipt {
  thoughtNumber: number;
  totalThoughts: number;
  nextThoughtNeeded: boolean;
  branches: string[];
  thoughtHistoryLength: number;
}

beforeAll(() => requireBuilt(CHILD));

afterEach(() => kit.cleanup());

describe('thinking child', () => {
  it('answers sequentialthinking exactly as the reference server does for a scripted session', async () => {
    const ours = await spawnOurs(kit.tempDir());
    const reference = await kit.spawn(REFERENCE, {});

    const ourTool = (await ours.client.listTools()).tools.find((t) => t.name === TOOL);
    const theirTools = (await reference.client.listTools()).tools;
    expect(theirTools.map((t) => t.name)).toEqual([TOOL]);
    const theirTool = theirTools[0];
    expect(ourTool?.inputSchema.required).toEqual(theirTool?.inputSchema.required);
    expect(Object.keys(ourTool?.inputSchema.properties ?? {})).toEqual([
      ...Object.keys(theirTool?.inputSchema.properties ?? {}),
      'sessionId',
    ]);
    expect(ourTool?.outputSchema).toEqual(theirTool?.outputSchema);
    expect(ourTool?.annotations?.readOnlyHint).toBe(false);

    for (const args of SCRIPT) {
      const mine = await call(ours.client, TOOL, args);
      const theirs = await call(reference.client, TOOL, args);
      expect(mine, JSON.stringify(args)).toEqual(theirs);
    }
  });

  it('keeps named sessions across a SIGKILL and starts a fresh default session on each start', async () => {
    const dir = kit.tempDir();
    const first = await spawnOurs(dir);
    await callJson(first.client, TOOL, thought(1));
    await callJson(first.client, TOOL, thought(1, { sessionId: 'design' }));
    await callJson(first.client, TOOL, thought(2, { sessionId: 'design', branchFromThought: 1, branchId: 'b' }));
    process.kill(first.transport.pid as number, 'SIGKILL');

    const second = await spawnOurs(dir);
    const resumed = await callJson<Receipt>(second.client, TOOL, thought(3, { sessionId: 'design' }));
    expect(resumed).toEqual({
      thoughtNumber: 3,
      totalThoughts: 3,
      nextThoughtNeeded: true,
      branches: ['b'],
      thoughtHistoryLength: 3,
    });
    const fresh = await callJson<Receipt>(second.client, TOOL, thought(1));
    expect(fresh.thoughtHistoryLength).toBe(1);

    const listed = await callJson<{
      total: number;
      sessions: { sessionId: string; thoughtCount: number; current: boolean }[];
    }>(second.client, 'list_sessions', {});
    expect(listed.total).toBe(3);
    expect(listed.sessions.filter((s) => s.current)).toHaveLength(1);
    expect(listed.sessions.find((s) => s.sessionId === 'design')?.thoughtCount).toBe(3);
    expect(listed.sessions.map((s) => s.thoughtCount).sort()).toEqual([1, 1, 3]);

    const session = await callJson<{ thoughts: { thought: string; branchId?: string }[] }>(
      second.client,
      'get_session',
      { sessionId: 'design' },
    );
    expect(session.thoughts.map((t) => t.thought)).toEqual(['step 1', 'step 2', 'step 3']);
    expect(session.thoughts[1]?.branchId).toBe('b');
  });

  it('exports a session as markdown and as JSON, and lists its branches', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    await callJson(client, TOOL, thought(1, { thought: 'Frame the problem' }));
    await callJson(client, TOOL, thought(2, { thought: 'Try a cache', branchFromThought: 1, branchId: 'cache' }));
    await callJson(client, TOOL, thought(3, { thought: 'No: measure first', isRevision: true, revisesThought: 2 }));
    await callJson(client, TOOL, thought(3, { thought: 'Done', nextThoughtNeeded: false }));

    const markdown = textOf(await call(client, 'export_session', {}));
    expect(markdown).toMatch(/^# Thinking session /);
    expect(markdown).toContain('## Thought 2/3 (branch `cache` from thought 1)\n\nTry a cache');
    expect(markdown).toContain('## Thought 3/3 (revision of thought 2)\n\nNo: measure first');
    expect(markdown.trimEnd().endsWith('_Thinking complete._')).toBe(true);

    const json = await callJson<{ thoughts: unknown[]; branches: string[] }>(client, 'export_session', {
      format: 'json',
    });
    expect(json.thoughts).toHaveLength(4);
    expect(json.branches).toEqual(['cache']);

    const branches = await callJson<{
      branches: { branchId: string; branchFromThought: number; thoughts: unknown[] }[];
    }>(client, 'branches', {});
    expect(branches.branches.map((b) => [b.branchId, b.branchFromThought, b.thoughts.length])).toEqual([
      ['cache', 1, 1],
    ]);
  });

  it('deletes a session', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    await callJson(client, TOOL, thought(1, { sessionId: 'scratch' }));
    expect(await callJson(client, 'delete_session', { sessionId: 'scratch' })).toEqual({
      sessionId: 'scratch',
      deleted: true,
    });
    const gone = await call(client, 'get_session', { sessionId: 'scratch' });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toMatch(/No thinking session `scratch`/);
  });

  it('answers bad arguments and oversized payloads with a tool error that says what is wrong', async () => {
    const { client } = await spawnOurs(kit.tempDir());
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [TOOL, thought(1, { thought: 'x'.repeat(MAX_THOUGHT_CHARS + 1) }), /thought is longer than 1048576/],
      [TOOL, thought(1, { sessionId: 's'.repeat(257) }), /sessionId is longer than 256/],
      [TOOL, thought(1, { sessionId: '' }), /sessionId is empty/],
      [TOOL, thought(1, { thought: 'half \udc00 pair' }), /lone surrogate/],
      ['get_session', {}, /No thinking session/],
      ['get_session', { sessionId: 'missing' }, /No thinking session `missing`/],
      ['export_session', { format: 'pdf' }, /format/],
      ['list_sessions', { limit: 0 }, /limit/],
      ['list_sessions', { limit: 5000 }, /limit/],
      ['branches', { sessionId: 'missing' }, /No thinking session/],
      ['delete_session', {}, /sessionId/],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, name).toBe(true);
      expect(textOf(result)).toMatch(message);
    }
    await callJson(client, TOOL, thought(1));
    const noBranch = await call(client, 'branches', { branchId: 'nope' });
    expect(noBranch.isError).toBe(true);
    expect(textOf(noBranch)).toMatch(/has no branch `nope`/);
  });
});

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  CreateMessageRequestSchema,
  McpError,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';

const EVERYTHING = {
  command: process.execPath,
  args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
};
const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function textOf(result: unknown): string {
  const content = (result as CallToolResult).content ?? [];
  return content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

async function errorCode(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof McpError ? error.code : -1;
  }
}

describe('the omnimind profile over the seven built-ins and server-everything', () => {
  let h: Harness;
  beforeAll(async () => {
    h = createHarness({ mcpServers: { everything: EVERYTHING } });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);
  afterAll(async () => {
    await h.cleanup();
  });

  it('lists every child under <child>__<name>, calls, reads resources and gets prompts', async () => {
    const client = await h.client('omnimind');
    expect(client.getServerVersion()?.name).toBe('omnimind');
    expect(client.getInstructions()).toContain('everything');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const child of ['memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite', 'everything']) {
      expect(
        names.some((n) => n.startsWith(`${child}__`)),
        child,
      ).toBe(true);
    }
    expect(names.every((n) => VALID_NAME.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    expect(
      textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'via profile' } })),
    ).toContain('via profile');
    await client.callTool({
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'profiled', entityType: 'test', observations: ['seen through the profile'] }] },
    });
    const memory = await h.client('memory');
    expect(textOf(await memory.callTool({ name: 'read_graph', arguments: {} }))).toContain('seen through the profile');

    const { resources } = await client.listResources();
    const uri = resources.find((r) => r.uri.startsWith('demo://resource/static/'))?.uri as string;
    expect(uri).toBeDefined();
    const read = await client.readResource({ uri });
    expect(read.contents[0]?.uri).toBe(uri);
    const templated = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(templated.contents[0]?.uri).toBe('demo://resource/dynamic/text/7');
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toContain('everything__simple-prompt');
    const prompt = await client.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
  });

  it('passes progress, cancellation and a sampling round trip through the profile', async () => {
    const client = await h.client('omnimind', { sampling: {} }, (c: Client) => {
      c.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: 'assistant',
        model: 'test-model',
        content: { type: 'text', text: 'sampled through the profile' },
      }));
    });
    const progress: number[] = [];
    await client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    // The server may write its answer before its last progress notification, which the client then drops.
    expect(progress.slice(0, 2)).toEqual([1, 2]);

    const sampled = await client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'hello', maxTokens: 10 },
    });
    expect(JSON.stringify(sampled)).toContain('sampled through the profile');

    const controller = new AbortController();
    const long = client.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 30, steps: 3 } },
      undefined,
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 200);
    await expect(long).rejects.toThrow();
    // The connection is still good after the cancellation.
    expect(textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'after' } }))).toContain(
      'after',
    );
  });

  it('accepts the profile name in `tools`, `call` and `status`', async () => {
    const tools = await h.cli(['tools', 'omnimind', '--json']);
    expect(tools.code, tools.stderr).toBe(0);
    expect((JSON.parse(tools.stdout) as Array<{ name: string }>).map((t) => t.name)).toContain('everything__echo');
    const call = await h.cli(['call', 'omnimind', 'everything__echo', '{"message":"from the cli"}']);
    expect(call.code, call.stderr).toBe(0);
    expect(call.stdout).toContain('from the cli');
    const status = await h.cli(['status', 'omnimind', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as { profiles: Array<{ name: string; children: string[] }> };
    expect(report.profiles.find((p) => p.name === 'omnimind')?.children).toContain('everything');
  });
});

describe('configured profiles', () => {
  let h: Harness;
  let toolsFile: string;
  beforeAll(async () => {
    h = createHarness();
    toolsFile = join(h.dir, 'extra-tool');
    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: {
        fx: fixture(`--extra-tool-if=${toolsFile}`, '--long-tool-name'),
        other: fixture(),
        broken: fixture('--crash-on-start'),
      },
      profiles: {
        coding: { children: ['fx'], tools: { deny: ['fx__count', 'fx__fail'] } },
        dead: { children: ['broken'] },
      },
      // These tests are about routing, not admission: a limit high enough that a burst of slow calls is never shed.
      limiter: { initialRps: 100_000, maxQueue: 10_000 },
    });
    const started = await h.cli(['start']);
    expect(started.code).toBe(1); // `broken` goes FATAL: start says so, the rest runs
  }, 120_000);
  afterAll(async () => {
    await h.cleanup();
  });

  it('shows only its children, hides denied tools and refuses them with -32601', async () => {
    const client = await h.client('coding');
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('fx__echo');
    expect(names.some((n) => n.startsWith('other__'))).toBe(false);
    expect(names).not.toContain('fx__count');
    expect(await errorCode(client.callTool({ name: 'fx__count', arguments: {} }))).toBe(-32601);
    expect(await errorCode(client.callTool({ name: 'nobody__echo', arguments: {} }))).toBe(-32602);
    const long = names.find((n) => n.startsWith('fx__long_')) as string;
    expect(long).toMatch(VALID_NAME);
    expect(long).toHaveLength(64);
    expect(textOf(await client.callTool({ name: long, arguments: {} }))).toBe('long');
  });

  it('answers every read-only call while a child is SIGKILLed mid-load', async () => {
    const client = await h.client('coding');
    const status = JSON.parse((await h.cli(['status', 'fx', '--json'])).stdout) as { children: Array<{ pid: number }> };
    const pid = status.children[0]?.pid as number;
    // Slow reads are surely in flight at the child when it dies; they are replayed once it is back.
    const calls = Array.from({ length: 100 }, (_, i) =>
      client.callTool({ name: 'fx__slow', arguments: { ms: 1000, text: `r${i}` } }, undefined, { timeout: 60_000 }),
    );
    await waitFor(async () => {
      const inFlight = JSON.parse((await h.cli(['status', 'fx', '--json'])).stdout) as {
        children: Array<{ inFlight: number }>;
      };
      return (inFlight.children[0]?.inFlight ?? 0) > 0;
    });
    process.kill(pid, 'SIGKILL');
    const results = await Promise.all(calls);
    expect(results.map(textOf)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
    const after = JSON.parse((await h.cli(['status', 'fx', '--json'])).stdout) as {
      children: Array<{ pid: number; restarts: number }>;
    };
    expect(after.children[0]?.pid).not.toBe(pid);
    expect(after.children[0]?.restarts).toBeGreaterThan(0);
  });

  it('tells its clients the list changed when a child restarts with other tools', async () => {
    const client = await h.client('coding');
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('fx__extra');
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed++;
    });
    writeFileSync(toolsFile, '');
    try {
      const restarted = await h.cli(['restart', 'fx']);
      expect(restarted.code, restarted.stderr).toBe(0);
      await waitFor(() => changed > 0, 20_000);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('fx__extra');
      expect(textOf(await client.callTool({ name: 'fx__extra', arguments: {} }))).toBe('extra');
    } finally {
      rmSync(toolsFile, { force: true });
    }
  });

  it('says in one sentence that every child of a profile is down', async () => {
    const code = await h.client('dead').then(
      () => undefined,
      (error: unknown) => (error instanceof McpError ? error.message : String(error)),
    );
    expect(code).toMatch(/Every child of profile "dead" is down: broken \(FATAL\)/);
  });

  it('names an unknown endpoint clearly', async () => {
    const tools = await h.cli(['tools', 'nosuch']);
    expect(tools.code).toBe(1);
    expect(tools.stderr).toContain('"nosuch"');
    const status = await h.cli(['status', 'nosuch']);
    expect(status.stderr).toMatch(/Unknown child or profile "nosuch"/);
  });
});

describe('profile config problems', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness();
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('lists a missing child, a disabled child and a name clash, and starts nothing', async () => {
    h.writeConfig({
      children: { ...NO_BUILTINS, git: { enabled: false } },
      mcpServers: { fx: fixture() },
      profiles: { coding: { children: ['fx', 'gti', 'git'] }, fx: { children: ['fx'] }, control: {} },
    });
    const check = await h.cli(['config', '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr + check.stdout).toContain('$.profiles.coding.children[1]: "gti" is not a child');
    expect(check.stderr + check.stdout).toContain('$.profiles.coding.children[2]: "git" is disabled');
    expect(check.stderr + check.stdout).toContain('$.profiles.fx: "fx" is already the name of a child');
    expect(check.stderr + check.stdout).toContain('$.profiles.control: "control" is reserved');
    const start = await h.cli(['start']);
    expect(start.code).toBe(1);
  });
});

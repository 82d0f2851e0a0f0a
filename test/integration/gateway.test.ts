import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';

type TextContent = Array<{ type: string; text: string }>;

/** Sends raw frames on a child socket and collects the raw answers. */
async function rawExchange(
  path: string,
  payload: string | Buffer,
  expectedLines: number,
): Promise<Array<Record<string, unknown>>> {
  return await new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only got: ${buffer}`));
    }, 10_000);
    socket.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n').filter(Boolean);
      if (lines.length >= expectedLines) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: {
        echo: { ...fixture(), compress: { tools: { echo: { maxResultTokens: 300 } } } },
        flaky: fixture(),
        broken: fixture('--crash-on-start'),
        everything: {
          command: process.execPath,
          args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
        },
        memory: {
          command: process.execPath,
          args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')],
          env: { MEMORY_FILE_PATH: '/tmp/omnimind-gateway-test-memory.jsonl' },
        },
      },
      gateway: { maxFrameBytes: 64 * 1024 },
      // These tests are about routing, not admission: a limit high enough that bursts of hundreds are never shed.
      limiter: { initialRps: 100_000, maxQueue: 10_000 },
    });
    const started = await h.cli(['start']);
    expect(started.stdout).toContain('echo');
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('gives each of 50 concurrent clients exactly its own answers', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => h.client('echo')));
    const results = await Promise.all(
      clients.map((client, i) =>
        Promise.all(
          Array.from({ length: 10 }, (_, j) => client.callTool({ name: 'echo', arguments: { text: `c${i}-r${j}` } })),
        ),
      ),
    );
    const texts = results.map((perClient) => perClient.map((r) => (r.content as TextContent)[0]?.text));
    expect(texts).toEqual(clients.map((_, i) => Array.from({ length: 10 }, (_, j) => `c${i}-r${j}`)));
    await Promise.all(clients.map((c) => c.close()));
  });

  it('compresses an oversized text result to its budget and marks it', async () => {
    const client = await h.client('echo');
    const filler = Array.from(
      { length: 400 },
      (_, i) => `Paragraph ${i} talks about nothing in particular at length.`,
    ).join('\n\n');
    const text = `${filler}\nERROR: disk /dev/sda1 is 98 % full\n${filler}`;
    const result = await client.callTool({ name: 'echo', arguments: { text } });
    const out = (result.content as TextContent)[0]!.text;
    expect(out.length).toBeLessThan(text.length / 5);
    expect(out).toContain('ERROR: disk /dev/sda1 is 98 % full');
    expect(result._meta?.['omnimind/compressed']).toMatchObject({ budget: 300, overflow: false });
    const short = await client.callTool({ name: 'echo', arguments: { text: 'short stays as it is' } });
    expect(short._meta).toBeUndefined();
  });

  it('answers initialize from the child and ping locally', async () => {
    const client = await h.client('echo');
    expect(client.getServerVersion()).toEqual({ name: 'fixture', version: '1.0.0' });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    await expect(client.ping()).resolves.toEqual({});
  });

  it('forwards cancellation to the child and drops the late answer', async () => {
    const client = await h.client('echo');
    const before = JSON.parse(
      ((await client.callTool({ name: 'stats', arguments: {} })).content as TextContent)[0]!.text,
    );
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 5000 } }, undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(call).rejects.toThrow();
    const after = await waitFor(async () => {
      const stats = JSON.parse(
        ((await client.callTool({ name: 'stats', arguments: {} })).content as TextContent)[0]!.text,
      );
      return stats.cancelled > before.cancelled ? stats : undefined;
    });
    expect(after.cancelled).toBe(before.cancelled + 1);
  });

  it('remaps progress tokens per client', async () => {
    const [a, b] = await Promise.all([h.client('echo'), h.client('echo')]);
    const seenA: number[] = [];
    const seenB: number[] = [];
    await Promise.all([
      a.callTool({ name: 'slow', arguments: { ms: 200 } }, undefined, { onprogress: (p) => seenA.push(p.progress) }),
      b.callTool({ name: 'slow', arguments: { ms: 200 } }, undefined, { onprogress: (p) => seenB.push(p.progress) }),
    ]);
    expect(seenA).toEqual([1, 2, 3, 4]);
    expect(seenB).toEqual([1, 2, 3, 4]);
  });

  it('routes a sampling request from the child to the client that asked', async () => {
    const plain = await h.client('echo');
    const sampler = await h.client('echo', { sampling: {} });
    sampler.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: {
        type: 'text',
        text: `sampled: ${(request.params.messages[0]?.content as { text?: string } | undefined)?.text}`,
      },
    }));
    const result = await sampler.callTool({ name: 'sample', arguments: { prompt: 'hello' } });
    expect((result.content as TextContent)[0]?.text).toBe('sampled: hello');
    expect(plain.getServerCapabilities()).toBeDefined();
  });

  it('replays 100 read-only requests in flight when the child is SIGKILLed', async () => {
    const client = await h.client('flaky');
    const pid = Number(((await client.callTool({ name: 'pid', arguments: {} })).content as TextContent)[0]!.text);
    const calls = Array.from({ length: 100 }, (_, i) =>
      client.callTool({ name: 'slow', arguments: { ms: 1500, text: `answer-${i}` } }),
    );
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const results = await Promise.all(calls);
    expect(results.map((r) => (r.content as TextContent)[0]?.text)).toEqual(calls.map((_, i) => `answer-${i}`));
    const newPid = Number(((await client.callTool({ name: 'pid', arguments: {} })).content as TextContent)[0]!.text);
    expect(newPid).not.toBe(pid);
  });

  it('answers -32012 for a non-idempotent request in flight when the child dies', async () => {
    const client = await h.client('flaky');
    const pid = Number(((await client.callTool({ name: 'pid', arguments: {} })).content as TextContent)[0]!.text);
    const call = client.callTool({ name: 'slow_write', arguments: { ms: 3000 } });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    await expect(call).rejects.toMatchObject({ code: -32012 });
  });

  it('answers -32011 at once for a FATAL child', async () => {
    await waitFor(async () => {
      const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
        children: Array<{ name: string; state: string }>;
      };
      return status.children.find((c) => c.name === 'broken')?.state === 'FATAL';
    });
    const [answer] = await rawExchange(h.socket('broken'), '{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n', 1);
    expect(answer?.error).toMatchObject({ code: -32011, data: { child: 'broken', state: 'FATAL' } });
  });

  it('answers bad frames with -32700, -32600 and -32013 without disturbing the child', async () => {
    const answers = await rawExchange(
      h.socket('echo'),
      `{nope\n{"jsonrpc":"2.0","id":5,"method":7}\n${'x'.repeat(70 * 1024)}\n{"jsonrpc":"2.0","id":9,"method":"ping"}\n`,
      4,
    );
    expect(answers.map((a) => (a.error as { code?: number } | undefined)?.code ?? 'ok')).toEqual([
      -32700,
      -32600,
      -32013,
      'ok',
    ]);
    expect(answers[2]?.error).toMatchObject({ data: { limitBytes: 64 * 1024 } });
    expect(answers[3]).toMatchObject({ id: 9, result: {} });
  });

  it('survives 10,000 fuzzed malformed frames while another client keeps working', async () => {
    const witness = await h.client('echo');
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc
        .record({
          jsonrpc: fc.constantFrom('2.0', '1.0', 2),
          id: fc.anything({ maxDepth: 1 }),
          method: fc.anything({ maxDepth: 1 }),
        })
        .map((r) => JSON.stringify(r)),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const samples = fc.sample(frame, { numRuns: 10_000, seed: 42 });
    const socket = connect(h.socket('echo'));
    await new Promise((r) => socket.once('connect', r));
    socket.on('data', () => {});
    socket.on('error', () => {});
    for (let i = 0; i < samples.length; i += 500) {
      socket.write(
        `${samples
          .slice(i, i + 500)
          .map((s) => s.replace(/\n/g, ' '))
          .join('\n')}\n`,
      );
      const result = await witness.callTool({ name: 'echo', arguments: { text: `alive ${i}` } });
      expect((result.content as TextContent)[0]?.text).toBe(`alive ${i}`);
    }
    socket.destroy();
    expect((await h.cli(['status', 'echo'])).code).toBe(0);
  });

  it('supervises the official everything and memory servers and serves them through `omnimind connect`', async () => {
    for (const [child, tool, args] of [
      ['everything', 'echo', { message: 'through omnimind' }],
      ['memory', 'read_graph', {}],
    ] as const) {
      const client = new Client({ name: 'connect-test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'connect', child],
          env: h.env as Record<string, string>,
        }),
      );
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain(tool);
      const result = await client.callTool({ name: tool, arguments: args });
      expect(result.isError ?? false).toBe(false);
      if (child === 'everything') expect(JSON.stringify(result.content)).toContain('through omnimind');
      await client.close();
    }
  });

  it('lists and calls tools from the CLI, and says when the supervisor is not running', async () => {
    const tools = await h.cli(['tools', 'echo']);
    expect(tools.code).toBe(0);
    expect(tools.stdout).toMatch(/echo\s+read-only/);
    const call = await h.cli(['call', 'echo', 'echo', '{"text":"from the cli"}']);
    expect(call).toMatchObject({ code: 0, stdout: 'from the cli\n' });
    const failing = await h.cli(['call', 'echo', 'fail']);
    expect(failing.code).toBe(1);
    const badJson = await h.cli(['call', 'echo', 'echo', '{bad']);
    expect(badJson.code).toBe(2);
    const other = createHarness();
    try {
      const connectResult = await other.cli(['connect', 'memory']);
      expect(connectResult.code).toBe(1);
      expect(connectResult.stderr).toContain('not running');
    } finally {
      await other.cleanup();
    }
  });

  it('answers -32011 for requests in flight when their child is stopped', async () => {
    const client = await h.client('flaky');
    // Settled into a value at once: the rejection arrives while the test is still waiting for `stop`.
    const outcome = client.callTool({ name: 'slow', arguments: { ms: 5000 } }).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await h.cli(['stop', 'flaky', '--timeout', '1'])).code).toBe(0);
    expect(await outcome).toMatchObject({ code: -32011, data: { child: 'flaky' } });
  });
});

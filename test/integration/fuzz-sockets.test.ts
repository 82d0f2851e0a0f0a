import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

const CHILDREN = ['memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite'];
/** Frames per socket: bounded so the test stays a few seconds long. */
const FRAMES = 1_000;
const MAX_FRAME_BYTES = 16 * 1024;

type TextContent = Array<{ type: string; text: string }>;

/** Writes `payload` to a socket and resolves once the supervisor has answered `expected` lines (or closed it). */
function blast(path: string, payload: string, expected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let lines = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(lines);
    }, 20_000);
    socket.on('data', (d: Buffer) => {
      lines += d.toString().split('\n').length - 1;
      if (lines >= expected) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines);
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('fuzzing every built-in child socket', () => {
  let h: Harness;
  beforeAll(async () => {
    h = createHarness({ gateway: { maxFrameBytes: MAX_FRAME_BYTES } });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('answers malformed and oversized frames on every socket, and every child keeps serving', async () => {
    const malformed = fc.oneof(
      fc.string({ maxLength: 120 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return s.trim() !== '';
        }
      }),
      fc.constantFrom('[]', '1', '"x"', 'null', '{"jsonrpc":"1.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":1}'),
      fc.nat(3).map((n) => 'y'.repeat(MAX_FRAME_BYTES + 1 + n)),
    );
    for (const [index, child] of CHILDREN.entries()) {
      const frames = fc.sample(malformed, { numRuns: FRAMES, seed: 7 + index }).map((f) => f.replace(/[\r\n]/g, ' '));
      const answered = await blast(h.socket(child), `${frames.join('\n')}\n`, frames.length);
      expect(answered, child).toBe(frames.length);
      const client = await h.client(child);
      const tools = await client.listTools();
      expect(tools.tools.length, child).toBeGreaterThan(0);
    }
    const memory = await h.client('memory');
    const graph = await memory.callTool({ name: 'read_graph', arguments: {} });
    expect((graph.content as TextContent)[0]?.type).toBe('text');
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      children: Array<{ name: string; state: string; restarts: number; lastExit: unknown }>;
    };
    const disturbed = status.children.filter((c) => c.state !== 'RUNNING' || c.restarts !== 0);
    expect(disturbed, JSON.stringify(disturbed)).toEqual([]);
  });
});

import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, NO_BUILTINS, ROOT } from '../helpers/harness.js';

/** The result the `raw-answers` child writes for `exact`, byte for byte. */
const EXACT_RESULT =
  '{ "content" : [ {"type":"text","text":"\\u00e9 \\"id\\":1 😀"} ],\t"big":12345678901234567890, "id":"inner" }';

/** Writes frames on a child socket and resolves with the first `count` lines that come back, as text. */
async function rawLines(path: string, frames: string[], count: number): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n').filter(Boolean);
      if (lines.length < count) return;
      socket.destroy();
      resolve(lines);
    });
    socket.on('error', reject);
    socket.write(frames.map((f) => `${f}\n`).join(''));
  });
}

describe('answers forwarded as the child wrote them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: {
        raw: { command: process.execPath, args: [join(ROOT, 'test/fixtures/children/raw-answers.mjs')] },
      },
    });
    const started = await h.cli(['start']);
    expect(started.code, started.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await h.cleanup();
  }, 60_000);

  it("keeps the child's result text exactly (numbers beyond 2^53, escapes, white space) under the client's own id", async () => {
    const lines = await rawLines(
      h.socket('raw'),
      [
        '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        '{"jsonrpc":"2.0","id":"a\\"b","method":"tools/call","params":{"name":"exact","arguments":{}}}',
        '{"jsonrpc":"2.0","id":12345678901234567891,"method":"tools/call","params":{"name":"exact","arguments":{}}}',
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nothing","arguments":{}}}',
        '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"fail","arguments":{}}}',
      ],
      5,
    );
    const byId = (idText: string) => lines.find((line) => line.includes(`"id":${idText},`));
    expect(byId('"a\\"b"')).toBe(`{"jsonrpc":"2.0","id":"a\\"b","result":${EXACT_RESULT}}`);
    expect(byId('12345678901234567891')).toBe(`{"jsonrpc":"2.0","id":12345678901234567891,"result":${EXACT_RESULT}}`);
    // A null result is answered as an empty one, and an error keeps its code and message.
    expect(JSON.parse(byId('3')!)).toEqual({ jsonrpc: '2.0', id: 3, result: {} });
    expect(JSON.parse(byId('4')!)).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: { code: -32602, message: 'fails on purpose' },
    });
  });

  it("answers a result that is not JSON with -32603 under the client's id, never passing the text on", async () => {
    const lines = await rawLines(
      h.socket('raw'),
      [
        '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}',
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        '{"jsonrpc":"2.0","id":"g","method":"tools/call","params":{"name":"garbled","arguments":{}}}',
      ],
      2,
    );
    const answer = JSON.parse(lines[1]!) as { id: string; error: { code: number; message: string } };
    expect(answer.id).toBe('g');
    expect(answer.error.code).toBe(-32603);
    expect(answer.error.message).toMatch(/not valid JSON/);
  });

  it('forwards large params to the child as the client wrote them, under the gateway id', async () => {
    const params = `{ "name" : "received", "arguments" : { "blob" : "${'x\\"y'.repeat(400)}" } }`;
    const lines = await rawLines(
      h.socket('raw'),
      [
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}',
        `{"jsonrpc":"2.0","id":"big","method":"tools/call","params":${params}}`,
      ],
      2,
    );
    const answer = JSON.parse(lines.find((line) => line.includes('"id":"big"'))!) as {
      result: { content: Array<{ text: string }> };
    };
    const received = answer.result.content[0]!.text;
    expect(received).toMatch(/^\{"jsonrpc":"2\.0","id":\d+,"method":"tools\/call","params":/);
    expect(received.slice(received.indexOf('"params":'))).toBe(`"params":${params}}`);
  });

  it('answers what a client wrote before half-closing, when its end is read with the last full buffer', async () => {
    // Pings filling exactly 64 KiB, one read buffer: the end of the stream then arrives in the same read callback as
    // the last frames, before the turn's answers are written.
    const frames: string[] = [];
    let size = 0;
    while (size < 65536 - 200) {
      const frame = `{"jsonrpc":"2.0","id":${frames.length + 1},"method":"ping"}\n`;
      frames.push(frame);
      size += frame.length;
    }
    const id = frames.length + 1;
    const head = `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"pad":"`;
    frames.push(`${head}${'x'.repeat(65536 - size - head.length - 4)}"}}\n`);
    const payload = frames.join('');
    expect(Buffer.byteLength(payload)).toBe(65536);
    for (let attempt = 0; attempt < 5; attempt++) {
      const received = await new Promise<string>((resolve, reject) => {
        const socket = connect(h.socket('raw'));
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.end(payload);
      });
      const answered = received.split('\n').filter((line) => line.includes('"result"'));
      expect(answered).toHaveLength(id);
    }
  });

  it('gives an SDK client the same content', async () => {
    const client = await h.client('raw');
    const result = await client.callTool({ name: 'exact', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'é "id":1 😀' }]);
    expect((result as Record<string, unknown>).id).toBe('inner');
  });
});

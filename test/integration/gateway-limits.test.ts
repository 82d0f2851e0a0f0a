import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callControl } from '../../src/supervisor/index.js';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';

/** A raw connection that collects every line the gateway sends and notices when it is closed. */
interface RawConnection {
  socket: Socket;
  lines: Array<Record<string, unknown>>;
  closed: boolean;
}

function open(path: string): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const connection: RawConnection = { socket: connect(path), lines: [], closed: false };
    let buffer = '';
    connection.socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        connection.lines.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    });
    connection.socket.on('close', () => {
      connection.closed = true;
    });
    connection.socket.on('error', () => {});
    connection.socket.once('connect', () => resolve(connection));
    connection.socket.once('error', reject);
  });
}

/** The error message of the first line a connection received. */
function firstErrorMessage(connection: RawConnection): string {
  return String((connection.lines[0]?.error as { message?: string } | undefined)?.message);
}

/** Writes and resolves once the bytes are handed to the kernel (or the peer went away). */
function send(connection: RawConnection, data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (connection.socket.write(data)) resolve();
    else {
      connection.socket.once('drain', resolve);
      connection.socket.once('close', resolve);
    }
  });
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return Number(line?.[1]) / 1024;
}

describe('the gateway bounds what clients can make it hold', () => {
  let h: Harness;
  let supervisorPid: number;
  beforeAll(async () => {
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { echo: fixture(), other: fixture() },
      gateway: { maxConnectionsPerSocket: 200, frameTimeoutMs: 1_500 },
    });
    expect((await h.cli(['start'])).code).toBe(0);
    supervisorPid = (await callControl(join(h.runtimeDir, 'control.sock'), 'status', {})).supervisor.pid;
  });
  afterAll(async () => await h.cleanup());

  it('refuses connections beyond the per-socket limit with a clear error, and serves the others', async () => {
    const held = await Promise.all(Array.from({ length: 200 }, () => open(h.socket('echo'))));
    const refused = await open(h.socket('echo'));
    await waitFor(() => refused.closed);
    expect(refused.lines[0]).toMatchObject({ error: { code: -32010 } });
    expect(firstErrorMessage(refused)).toContain('maxConnectionsPerSocket');
    // Another child's socket has its own count, and the held connections still work.
    const client = await h.client('other');
    expect(await client.ping()).toEqual({});
    await send(held[0]!, '{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await waitFor(() => held[0]!.lines.length === 1);
    expect(held[0]!.lines[0]).toMatchObject({ id: 1, result: {} });
    for (const connection of held) connection.socket.destroy();
    await client.close();
  });

  it('keeps 150 unfinished 4 MiB frames from growing the supervisor past its buffer budget', async () => {
    const before = rssMb(supervisorPid);
    const connections = await Promise.all(
      Array.from({ length: 150 }, (_, i) => open(h.socket(i % 2 === 0 ? 'echo' : 'other'))),
    );
    const almostFrame = Buffer.alloc(4 * 1024 * 1024 - 64, 0x20);
    await Promise.all(connections.map((connection) => send(connection, almostFrame)));
    await waitFor(() => connections.filter((c) => c.closed).length >= 100, 60_000);
    // The default budget (64 MiB) holds 16 of them at most; the rest were told why and closed.
    const closed = connections.filter((c) => c.closed);
    expect(closed.length).toBeGreaterThanOrEqual(150 - 16);
    expect(
      closed.some((c) => String((c.lines[0]?.error as { message?: string })?.message).includes('maxBufferedBytes')),
    ).toBe(true);
    // Holding them all would take 600 MiB; what was read and dropped may wait for a GC, so the bound leaves room.
    expect(rssMb(supervisorPid) - before).toBeLessThan(400);
    const status = await h.cli(['status', '--json']);
    expect(status.code).toBe(0);
    for (const connection of connections) connection.socket.destroy();
  }, 120_000);

  it('closes a connection whose frame stays half received', async () => {
    const slow = await open(h.socket('echo'));
    await send(slow, '{"jsonrpc":"2.0","id":7,"method":"pi');
    await waitFor(() => slow.closed, 10_000);
    expect(slow.lines[0]).toMatchObject({ error: { code: -32600 } });
    expect(firstErrorMessage(slow)).toContain('frameTimeoutMs');
  });

  it('survives a notification nested 20,000 deep and answers the frames after it', async () => {
    const deep = `{"jsonrpc":"2.0","method":"notifications/deep","params":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`;
    const deepArray = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
    const connection = await open(h.socket('echo'));
    await send(connection, `${deep}\n${deepArray}\n{"jsonrpc":"2.0","id":6,"method":"ping"}\n`);
    await waitFor(() => connection.lines.some((line) => line.id === 6));
    expect(connection.lines.find((line) => line.id === 6)).toMatchObject({ result: {} });
    expect(connection.lines.find((line) => line.id === 5)).toHaveProperty('error');
    expect(await (await h.client('echo')).ping()).toEqual({});
    connection.socket.destroy();
  });

  it('echoes every id byte for byte, and answers an oversized frame with its id', async () => {
    const connection = await open(h.socket('echo'));
    let raw = '';
    connection.socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
    });
    await send(
      connection,
      '{"jsonrpc":"2.0","id":12345678901234567890123,"method":"ping"}\n{"jsonrpc":"2.0","id":"req-\\u00e9\\"x","method":"ping"}\n{"jsonrpc":"2.0","id":1.50,"method":"ping"}\n',
    );
    await waitFor(() => connection.lines.length === 3);
    expect(raw).toContain('"id":12345678901234567890123,');
    expect(raw).toContain('"id":1.50,');
    expect(connection.lines.map((line) => line.id)).toContain('req-é"x');
    const huge = `{"jsonrpc":"2.0","id":"big-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(5 * 1024 * 1024)}"}}}\n`;
    await send(connection, huge);
    await waitFor(() => connection.lines.length === 4);
    expect(connection.lines[3]).toMatchObject({ id: 'big-1', error: { code: -32013 } });
    connection.socket.destroy();
  });
});

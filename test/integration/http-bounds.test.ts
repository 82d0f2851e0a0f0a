import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';
import { freePort, initializeBody, openSession, postHeaders } from '../helpers/http.js';

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
};

interface Status {
  children: Array<{ name: string; clients: number }>;
  http: { sessions: number };
}

/** A raw client on a unix socket: frames out, parsed frames in, in order. */
function socketClient(path: string): { socket: Socket; send(message: unknown): void; next(): Promise<unknown> } {
  const socket = connect(path);
  const frames: unknown[] = [];
  const waiters: Array<(frame: unknown) => void> = [];
  let buffer = '';
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
      const frame = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(frame);
      else frames.push(frame);
    }
  });
  return {
    socket,
    send: (message) => socket.write(`${JSON.stringify(message)}\n`),
    next: () => (frames.length > 0 ? Promise.resolve(frames.shift()) : new Promise((resolve) => waiters.push(resolve))),
  };
}

describe('2026-07-28 requests on a socket that wait for input time out like every other request', () => {
  let h: Harness;
  let root: string;
  const status = async () => JSON.parse((await h.cli(['status', '--json'])).stdout) as Status;
  const clientsOf = async (name: string) => (await status()).children.find((c) => c.name === name)?.clients;

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'om-bounds-')));
    h = createHarness({
      children: { ...NO_BUILTINS, filesystem: { roots: [root] } },
      mcpServers: { fx: fixture() },
      limiter: { timeoutMs: 1_500 },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('lets go of a request asked for its roots whose client never retries, after limiter.timeoutMs', async () => {
    const client = socketClient(h.socket('filesystem'));
    await waitFor(async () => (await clientsOf('filesystem')) === 1);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { roots: {} },
    };
    client.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'list_allowed_directories', arguments: {}, _meta: meta },
    });
    const asked = (await client.next()) as {
      result: { resultType: string; requestState: string; inputRequests: Record<string, { method: string }> };
    };
    expect(asked.result.resultType).toBe('input_required');
    expect(Object.values(asked.result.inputRequests).map((r) => r.method)).toEqual(['roots/list']);
    expect(await clientsOf('filesystem')).toBe(2);
    await waitFor(async () => (await clientsOf('filesystem')) === 1, 20_000);
    const key = Object.keys(asked.result.inputRequests)[0]!;
    client.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: {
        name: 'list_allowed_directories',
        arguments: {},
        requestState: asked.result.requestState,
        inputResponses: { [key]: { roots: [{ uri: pathToFileURL(root).href }] } },
        _meta: meta,
      },
    });
    const late = (await client.next()) as { id: number; error: { message: string } };
    expect(late.id).toBe(2);
    expect(late.error.message).toMatch(/requestState is unknown or expired/);
    client.socket.destroy();
  }, 30_000);

  it('frees a request whose client never answers its input_required, and refuses the late retry', async () => {
    const client = socketClient(h.socket('fx'));
    await waitFor(async () => (await clientsOf('fx')) === 1);
    client.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'sample', arguments: { prompt: 'never answered' }, _meta: MODERN_META },
    });
    const asked = (await client.next()) as { id: number; result: { resultType: string; requestState: string } };
    expect(asked.id).toBe(1);
    expect(asked.result.resultType).toBe('input_required');
    // The request's own session at the child, held while it waits, is let go after limiter.timeoutMs.
    expect(await clientsOf('fx')).toBe(2);
    await waitFor(async () => (await clientsOf('fx')) === 1, 20_000);
    client.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: {
        name: 'sample',
        arguments: { prompt: 'never answered' },
        requestState: asked.result.requestState,
        inputResponses: {},
        _meta: MODERN_META,
      },
    });
    const late = (await client.next()) as { id: number; error: { message: string } };
    expect(late.id).toBe(2);
    expect(late.error.message).toMatch(/requestState is unknown or expired/);
    client.socket.destroy();
  }, 30_000);
});

describe('HTTP sessions take places in gateway.maxConnections, beside socket clients', () => {
  let h: Harness;
  let url: string;
  const status = async () => JSON.parse((await h.cli(['status', '--json'])).stdout) as Status;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp/fx`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}`, auth: 'none' },
      gateway: { maxConnections: 3 },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('answers a session beyond the bound 503 with a JSON-RPC error, leaks nothing, and frees a place on DELETE', async () => {
    const socket = socketClient(h.socket('fx'));
    await waitFor(async () => (await status()).children[0]?.clients === 1);
    const first = await openSession(url, undefined);
    await openSession(url, undefined);
    const refused = await fetch(url, {
      method: 'POST',
      headers: postHeaders(undefined, { Accept: 'application/json' }),
      body: initializeBody(),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('mcp-session-id')).toBeNull();
    const body = (await refused.json()) as { jsonrpc: string; error: { code: number; message: string } };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.code).toBe(-32010);
    expect(body.error.message).toContain('gateway.maxConnections');
    // The bound is one for both transports: a socket client is refused too while HTTP sessions hold the places.
    const late = socketClient(h.socket('fx'));
    expect(((await late.next()) as { error: { message: string } }).error.message).toContain('gateway.maxConnections');
    late.socket.destroy();
    const held = await status();
    expect(held.http.sessions).toBe(2);
    expect(held.children[0]?.clients).toBe(3);
    // Ending a session gives its place back at once.
    const ended = await fetch(url, { method: 'DELETE', headers: { 'Mcp-Session-Id': first } });
    expect(ended.status).toBe(200);
    const again = await openSession(url, undefined);
    expect(again).not.toBe(first);
    expect((await status()).http.sessions).toBe(2);
    socket.socket.destroy();
  }, 30_000);
});

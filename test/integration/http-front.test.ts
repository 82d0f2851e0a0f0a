import { connect } from 'node:net';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';
import { freePort, httpClient, initializeBody, openSession, postHeaders, readEvents } from '../helpers/http.js';

const EVERYTHING = {
  command: process.execPath,
  args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
};

function textOf(result: unknown): string {
  return ((result as CallToolResult).content ?? []).map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe('the Streamable HTTP front (2025 sessions, token auth)', () => {
  let h: Harness;
  let base: string;
  let port: number;
  let token: string;
  let scoped: string;
  const clients: Client[] = [];

  async function client(path: string, secret = token, capabilities = {}, setup?: (c: Client) => void) {
    const { client } = await httpClient(`${base}${path}`, secret, capabilities, setup);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture(), everything: EVERYTHING },
      http: { listen: `127.0.0.1:${port}`, maxSessionsPerCredential: 40, headersTimeoutMs: 1_000 },
      gateway: { maxFrameBytes: 65_536 },
    });
    const created = await h.cli(['token', 'create', 'ci']);
    expect(created.code, created.stderr).toBe(0);
    token = created.stdout.trim();
    scoped = (await h.cli(['token', 'create', 'fx-only', '--endpoint', 'fx'])).stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h?.cleanup();
  });

  it('prints the secret alone on stdout and stores only its hash', async () => {
    expect(token).toMatch(/^omm_[A-Za-z0-9_-]{43}$/);
    const listed = await h.cli(['token', 'list', '--json']);
    expect(JSON.parse(listed.stdout).map((t: { name: string }) => t.name)).toEqual(['ci', 'fx-only']);
    expect(listed.stdout).not.toContain(token.slice(4));
    const again = await h.cli(['token', 'create', 'ci']);
    expect(again.code).toBe(1);
  });

  it('serves tools, progress, cancellation and sampling on /mcp/<child>', async () => {
    const fx = await client('/mcp/fx', token, { sampling: {} }, (c) =>
      c.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
        role: 'assistant',
        model: 'test',
        content: { type: 'text', text: `sampled: ${(request.params.messages[0]!.content as { text: string }).text}` },
      })),
    );
    expect((await fx.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await fx.callTool({ name: 'echo', arguments: { text: 'over http' } }))).toBe('over http');
    const progress: number[] = [];
    const slow = await fx.callTool({ name: 'slow', arguments: { ms: 200, text: 'done' } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(slow)).toBe('done');
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(textOf(await fx.callTool({ name: 'sample', arguments: { prompt: 'hi' } }))).toBe('sampled: hi');
    const controller = new AbortController();
    const cancelled = fx.callTool({ name: 'slow', arguments: { ms: 20_000, text: 'never' } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 300);
    await expect(cancelled).rejects.toThrow();
    await waitFor(async () => {
      const stats = JSON.parse(textOf(await fx.callTool({ name: 'stats', arguments: {} })));
      return stats.cancelled >= 1;
    });
  });

  it('serves the omnimind profile on /mcp: tools, resources and prompts of several children', async () => {
    const profile = await client('/mcp');
    const names = (await profile.listTools()).tools.map((t) => t.name);
    expect(names).toContain('fx__echo');
    expect(names).toContain('everything__echo');
    expect(textOf(await profile.callTool({ name: 'fx__echo', arguments: { text: 'profiled' } }))).toBe('profiled');
    const read = await profile.readResource({ uri: 'demo://resource/dynamic/text/7' });
    expect(read.contents[0]?.uri).toBe('demo://resource/dynamic/text/7');
    const prompt = await profile.getPrompt({ name: 'everything__simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
  });

  it('answers every read-only call while the child is SIGKILLed under HTTP load', async () => {
    const fx = await Promise.all(Array.from({ length: 8 }, () => client('/mcp/fx')));
    const pid = Number(textOf(await fx[0]!.callTool({ name: 'pid', arguments: {} })));
    let killed = false;
    const calls = fx.map(async (c, i) => {
      const answers: string[] = [];
      for (let n = 0; n < 40; n++) {
        if (i === 0 && n === 10) {
          process.kill(pid, 'SIGKILL');
          killed = true;
        }
        answers.push(textOf(await c.callTool({ name: 'echo', arguments: { text: `${i}-${n}` } })));
      }
      return answers;
    });
    const results = await Promise.all(calls);
    expect(killed).toBe(true);
    results.forEach((answers, i) => {
      expect(answers).toEqual(Array.from({ length: 40 }, (_, n) => `${i}-${n}`));
    });
    expect(Number(textOf(await fx[0]!.callTool({ name: 'pid', arguments: {} })))).not.toBe(pid);
  });

  it('refuses missing, bad, revoked and out-of-scope tokens', async () => {
    const init = (path: string, secret?: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: postHeaders(secret), body: initializeBody() });
    const missing = await init('/mcp');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
    );
    const metadata = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      resource: string;
    };
    expect(metadata.resource).toBe(`${base}/mcp`);
    expect((await init('/mcp', `${token}x`)).status).toBe(401);
    expect((await init('/mcp/everything', scoped)).status).toBe(403);
    expect((await init('/mcp', scoped)).status).toBe(403);
    const fx = await client('/mcp/fx', scoped);
    expect(textOf(await fx.callTool({ name: 'echo', arguments: { text: 'scoped' } }))).toBe('scoped');

    const temporary = (await h.cli(['token', 'create', 'temporary'])).stdout.trim();
    const session = await openSession(`${base}/mcp/fx`, temporary);
    const stream = await fetch(`${base}/mcp/fx`, {
      headers: { ...postHeaders(temporary, { 'Mcp-Session-Id': session }), Accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const revoked = await h.cli(['token', 'revoke', 'temporary']);
    expect(revoked.code).toBe(0);
    // The revoked token's open stream is closed too (at the next sweep, within 5 s).
    await readEvents(stream, () => false);
    const after = await fetch(`${base}/mcp/fx`, {
      method: 'POST',
      headers: postHeaders(temporary, { 'Mcp-Session-Id': session }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(401);
    // Another credential cannot use a session it did not open.
    const stolen = await fetch(`${base}/mcp/fx`, {
      method: 'POST',
      headers: postHeaders(token, { 'Mcp-Session-Id': session }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(stolen.status).toBe(404);
  });

  it('refuses foreign Origin and Host headers (DNS rebinding)', async () => {
    const body = initializeBody();
    const foreignOrigin = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: postHeaders(token, { Origin: 'http://evil.example' }),
      body,
    });
    expect(foreignOrigin.status).toBe(403);
    const ownOrigin = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: postHeaders(token, { Origin: base, Accept: 'application/json' }),
      body,
    });
    expect(ownOrigin.status).toBe(200);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: evil.example:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('end', () => resolve(text.split('\r\n')[0]!));
      socket.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 403 Forbidden');
  });

  it('answers bad input with the status and JSON-RPC error the spec names', async () => {
    const url = `${base}/mcp/fx`;
    const session = await openSession(url, token, '2025-06-18');
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: postHeaders(token, { 'Mcp-Session-Id': session, Accept: 'application/json', ...headers }),
        body,
      });
      const text = await response.text();
      return { status: response.status, error: text === '' ? undefined : JSON.parse(text).error };
    };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(await post('{"jsonrpc":')).toMatchObject({ status: 400, error: { code: -32700 } });
    expect(await post(`[${list}]`)).toMatchObject({ status: 400, error: { code: -32600 } });
    expect(await post('{"jsonrpc":"1.0","id":1,"method":"x"}')).toMatchObject({ status: 400, error: { code: -32600 } });
    expect(await post(list, { 'Content-Type': 'text/plain' })).toMatchObject({ status: 415 });
    expect(await post(list, { Accept: 'text/html' })).toMatchObject({ status: 406 });
    expect(await post(list, { 'MCP-Protocol-Version': '1999-01-01' })).toMatchObject({ status: 400 });
    expect(await post(list, { 'Mcp-Session-Id': 'no-such-session' })).toMatchObject({ status: 404 });
    expect(await post(`{"jsonrpc":"2.0","id":6,"method":"x","params":{"p":"${'x'.repeat(70_000)}"}}`)).toMatchObject({
      status: 413,
      error: { code: -32013, data: { limitBytes: 65_536 } },
    });
    const noSession = await fetch(url, { method: 'POST', headers: postHeaders(token), body: list });
    expect(noSession.status).toBe(400);
    // The session still works after all that.
    const answered = await post(list);
    expect(answered.status).toBe(200);

    // 2025-03-26 allowed batches: there they are answered as an array.
    const old = await openSession(url, token, '2025-03-26');
    const batch = await fetch(url, {
      method: 'POST',
      headers: postHeaders(token, { 'Mcp-Session-Id': old, Accept: 'application/json' }),
      body: `[${list},${JSON.stringify({ jsonrpc: '2.0', id: 'p', method: 'ping' })}]`,
    });
    expect(batch.status).toBe(200);
    const answers = (await batch.json()) as Array<{ id: unknown }>;
    expect(answers.map((a) => a.id).sort()).toEqual([5, 'p']);

    const deleted = await fetch(url, { method: 'DELETE', headers: postHeaders(token, { 'Mcp-Session-Id': old }) });
    expect(deleted.status).toBe(200);
    const gone = await fetch(url, {
      method: 'POST',
      headers: postHeaders(token, { 'Mcp-Session-Id': old }),
      body: list,
    });
    expect(gone.status).toBe(404);
  });

  it('caps sessions per credential', async () => {
    const url = `${base}/mcp/fx`;
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout);
    const held = status.http.byCredential['token:fx-only'] ?? 0;
    const opened: string[] = [];
    for (let i = held; i < 40; i++) opened.push(await openSession(url, scoped));
    const refused = await fetch(url, { method: 'POST', headers: postHeaders(scoped), body: initializeBody() });
    expect(refused.status).toBe(429);
    await fetch(url, { method: 'DELETE', headers: postHeaders(scoped, { 'Mcp-Session-Id': opened[0]! }) });
    expect(await openSession(url, scoped)).toMatch(/-/);
  });

  it('resumes a dropped SSE stream from Last-Event-ID', async () => {
    const url = `${base}/mcp/fx`;
    const session = await openSession(url, token);
    const headers = postHeaders(token, { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' });
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 1_200, text: 'resumed' }, _meta: { progressToken: 't' } },
      }),
    });
    expect(call.headers.get('content-type')).toBe('text/event-stream');
    const first = await readEvents(call, () => true);
    expect(JSON.parse(first[0]!.data).method).toBe('notifications/progress');
    const resumed = await fetch(url, {
      method: 'GET',
      headers: { ...headers, Accept: 'text/event-stream', 'Last-Event-ID': first[0]!.id! },
    });
    expect(resumed.status).toBe(200);
    const rest = await readEvents(resumed, (e) => JSON.parse(e.data).id === 9);
    const messages = rest.map((e) => JSON.parse(e.data));
    expect(messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress)).toEqual([
      2, 3, 4,
    ]);
    expect(messages.at(-1).result.content[0].text).toBe('resumed');
  });

  it('closes a connection that never finishes its headers (slowloris)', async () => {
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    expect(closed === '' || closed.startsWith('HTTP/1.1 408')).toBe(true);
  }, 30_000);

  it('shows the listener and its sessions in status', async () => {
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout);
    expect(status.http.url).toBe(`${base}/mcp`);
    expect(status.http.sessions).toBeGreaterThan(0);
    expect(status.http.byCredential['token:ci']).toBeGreaterThan(0);
    expect(status.http.byRevision['2025-11-25']).toBeGreaterThan(0);
    const text = await h.cli(['status']);
    expect(text.stdout).toContain(`${base}/mcp`);
  });
});

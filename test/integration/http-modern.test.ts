import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createHarness, fixture, type Harness, NO_BUILTINS } from '../helpers/harness.js';
import { freePort, MODERN_REVISION, textOf } from '../helpers/http.js';

describe('the 2026-07-28 stateless revision on the same URLs', () => {
  let h: Harness;
  let base: string;
  let token: string;
  const clients: Client[] = [];

  async function modernClient(path: string, setup?: (client: Client) => void, capabilities = {}): Promise<Client> {
    const client = new Client(
      { name: 'modern-test', version: '1.0.0' },
      { capabilities, versionNegotiation: { mode: { pin: MODERN_REVISION } } },
    );
    setup?.(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}${path}`), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}` },
    });
    token = (await h.cli(['token', 'create', 'modern'])).stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h?.cleanup();
  });

  it('discovers, lists and calls with the SDK 2.x client pinned to 2026-07-28', async () => {
    const client = await modernClient('/mcp/fx');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'modern' } }))).toBe('modern');
    expect(client.getProtocolEra()).toBe('modern');
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout);
    expect(status.http.sessions).toBe(0);
    expect(status.http.statelessRequests).toBeGreaterThanOrEqual(3);
  });

  it('serves the omnimind profile, with progress', async () => {
    const client = await modernClient('/mcp');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('fx__echo');
    const progress: number[] = [];
    const slow = await client.callTool(
      { name: 'fx__slow', arguments: { ms: 200, text: 'slept' } },
      {
        onprogress: (p: { progress: number }) => progress.push(p.progress),
      },
    );
    expect(textOf(slow)).toBe('slept');
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(client.getProtocolEra()).toBe('modern');
  });

  it("turns a 2025-era child's sampling request into input_required, answered by the client's retry", async () => {
    const asked: string[] = [];
    const client = await modernClient(
      '/mcp/fx',
      (c) =>
        c.setRequestHandler('sampling/createMessage', async (request) => {
          asked.push((request.params.messages[0]!.content as { text: string }).text);
          return { role: 'assistant', model: 'test', content: { type: 'text', text: 'from the client' } };
        }),
      { sampling: {} },
    );
    expect(textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'question' } }))).toBe(
      'from the client',
    );
    expect(asked).toEqual(['question']);
    expect(client.getProtocolEra()).toBe('modern');
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout);
    expect(status.http.awaitingInput).toBe(0);
  });

  it('streams the list changes a client opted in to on subscriptions/listen', async () => {
    const client = await modernClient('/mcp');
    const changed = new Promise<void>((resolve) => {
      client.setNotificationHandler('notifications/tools/list_changed', () => resolve());
    });
    const subscription = await client.listen({ toolsListChanged: true });
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
    expect(JSON.parse((await h.cli(['status', '--json'])).stdout).http.listening).toBe(1);
    // The child coming back makes the profile announce that its tools changed.
    const restarted = await h.cli(['restart', 'fx']);
    expect(restarted.code, restarted.stderr).toBe(0);
    await changed;
    await subscription.close();
  });

  it('answers 400 HeaderMismatch when Mcp-Method or Mcp-Name disagree with the body', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const call = (headers: Record<string, string>) =>
      fetch(`${base}/mcp/fx`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: `Bearer ${token}`,
          'MCP-Protocol-Version': MODERN_REVISION,
          ...headers,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'x' }, _meta: meta },
        }),
      });
    const wrongMethod = await call({ 'Mcp-Method': 'tools/list', 'Mcp-Name': 'echo' });
    expect(wrongMethod.status).toBe(400);
    expect(((await wrongMethod.json()) as { error: { code: number } }).error.code).toBe(-32020);
    const wrongName = await call({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'fail' });
    expect(wrongName.status).toBe(400);
    expect(((await wrongName.json()) as { error: { code: number } }).error.code).toBe(-32020);
    const right = await call({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo', Accept: 'application/json' });
    expect(right.status).toBe(200);
    const answer = (await right.json()) as { result: { content: Array<{ text: string }>; resultType: string } };
    expect(answer.result.content[0]?.text).toBe('x');
    expect(answer.result.resultType).toBe('complete');
    expect(right.headers.get('mcp-session-id')).toBeNull();
  });

  it('serves a 2026-07-28 client on omnimind connect (the socket) too, sampling included', async () => {
    const client = new Client(
      { name: 'modern-socket', version: '1.0.0' },
      { capabilities: { sampling: {} }, versionNegotiation: { mode: { pin: MODERN_REVISION } } },
    );
    client.setRequestHandler('sampling/createMessage', async () => ({
      role: 'assistant',
      model: 'test',
      content: { type: 'text', text: 'over the socket' },
    }));
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'connect', 'fx'],
        env: h.env as Record<string, string>,
      }),
    );
    clients.push(client);
    expect(client.getProtocolEra()).toBe('modern');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'socket' } }))).toBe('socket');
    expect(textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'q' } }))).toBe('over the socket');
  });
});

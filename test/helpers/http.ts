import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The stateless MCP revision, as 2026-07-28 clients pin it. */
export const MODERN_REVISION = '2026-07-28';

/** The text blocks of a tool result, joined. */
export function textOf(result: { content?: Array<{ type: string; text?: string }> }): string {
  return (result.content ?? []).map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Connects the official SDK 1.x client over Streamable HTTP; `setup` registers its handlers first. */
export async function httpClient(
  url: string,
  token: string | undefined,
  capabilities: Record<string, unknown> = {},
  setup?: (client: Client) => void,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'http-test', version: '1.0.0' }, { capabilities });
  setup?.(client);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token === undefined ? undefined : { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

/** The headers of a well-behaved POST. */
export function postHeaders(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
    ...extra,
  };
}

/** An initialize request body. */
export function initializeBody(protocolVersion = '2025-11-25', id: number | string = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
}

/** Opens a session by hand (JSON answers); returns its id. */
export async function openSession(
  url: string,
  token: string | undefined,
  protocolVersion = '2025-11-25',
): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: postHeaders(token, { Accept: 'application/json' }),
    body: initializeBody(protocolVersion),
  });
  if (response.status !== 200) throw new Error(`initialize: ${response.status} ${await response.text()}`);
  await response.text();
  const id = response.headers.get('mcp-session-id');
  if (id === null) throw new Error('no Mcp-Session-Id');
  await fetch(url, {
    method: 'POST',
    headers: postHeaders(token, { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': protocolVersion }),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  return id;
}

/** Reads SSE events from a response body until `stop` says so; returns them. */
export async function readEvents(
  response: Response,
  stop: (event: { id?: string; data: string }) => boolean,
): Promise<Array<{ id?: string; data: string }>> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ id?: string; data: string }> = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event: { id?: string; data: string } = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        if (line.startsWith('data: ')) event.data += line.slice(6);
      }
      if (event.data === '') continue;
      events.push(event);
      if (stop(event)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

import { createServer } from 'node:http';

/**
 * A Streamable HTTP MCP server with nothing behind it: it answers `initialize` and an echo `tools/call` at once, in
 * JSON, and refuses the GET stream. Loaded by the HTTP bench's clients, it shows what they reach when no server costs
 * anything: the ceiling the clients themselves set on this machine. Run as its own process: `node … <port>`.
 */
function answer(message: { id?: unknown; method?: string; params?: Record<string, unknown> }): unknown {
  switch (message.method) {
    case 'initialize':
      return {
        protocolVersion: message.params?.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'instant', version: '1.0.0' },
      };
    case 'tools/call': {
      const text = (message.params?.arguments as { text?: unknown } | undefined)?.text;
      return { content: [{ type: 'text', text: String(text) }] };
    }
    default:
      return {};
  }
}

let sessions = 0;
const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(request.method === 'DELETE' ? 200 : 405).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (message.id === undefined) {
      response.writeHead(202).end();
      return;
    }
    const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: answer(message) });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    };
    if (message.method === 'initialize') headers['Mcp-Session-Id'] = `s${++sessions}`;
    response.writeHead(200, headers).end(body);
  });
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('listening'));

import { Agent, request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { SocketClientTransport } from '../test/helpers/socket-transport.js';

/** Where a load worker sends its echo calls, and with which client. */
export type LoadTarget =
  | { kind: 'sdk-http'; url: string }
  | { kind: 'sdk-socket'; path: string }
  /** A raw keep-alive generator (node:http Agent, no SDK): one session and one connection per client. */
  | { kind: 'raw-http'; url: string };

/** What the parent tells a worker. */
export type LoadCommand =
  | { type: 'connect'; target: LoadTarget; clients: number; worker: number }
  | { type: 'run'; calls: number; measured: boolean }
  | { type: 'close' };

/** What a worker tells its parent after each command. */
export type LoadReply =
  | { type: 'ready' }
  | { type: 'done'; latencies: number[]; errors: number; cpuUs: number }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

/** One client of a worker: calls the echo tool with `text`, resolving when answered. */
interface EchoClient {
  call(text: string): Promise<void>;
  close(): Promise<void>;
}

async function sdkClient(transport: Transport): Promise<EchoClient> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return {
    call: async (text) => void (await client.callTool({ name: 'echo', arguments: { text } })),
    close: () => client.close(),
  };
}

/** POSTs one body on `agent`'s connection; resolves with the status, the session header and the body. */
function post(
  agent: Agent,
  url: URL,
  body: string,
  session: string | undefined,
): Promise<{ status: number; session: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'Content-Length': Buffer.byteLength(body),
          ...(session === undefined ? {} : { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            session: response.headers['mcp-session-id'] as string | undefined,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A session driven by hand over one keep-alive connection: initialize, initialized, then tools/call. */
async function rawClient(target: string): Promise<EchoClient> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const init = await post(
    agent,
    url,
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-bench', version: '1' } },
    }),
    undefined,
  );
  if (init.status !== 200 || init.session === undefined) throw new Error(`initialize: HTTP ${init.status}`);
  const session = init.session;
  await post(agent, url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', session);
  let id = 1;
  return {
    async call(text) {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: id++,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text } },
      });
      const answer = await post(agent, url, body, session);
      if (answer.status !== 200 || !answer.text.includes('"result"')) throw new Error(`tools/call: ${answer.status}`);
    },
    async close() {
      await new Promise<void>((resolve) => {
        const req = request(url, { method: 'DELETE', agent, headers: { 'Mcp-Session-Id': session } }, (response) => {
          response.resume();
          response.on('end', resolve);
        });
        req.on('error', () => resolve());
        req.end();
      });
      agent.destroy();
    },
  };
}

function connect(target: LoadTarget): Promise<EchoClient> {
  switch (target.kind) {
    case 'sdk-http':
      return sdkClient(new StreamableHTTPClientTransport(new URL(target.url)));
    case 'sdk-socket':
      return sdkClient(new SocketClientTransport(target.path));
    default:
      return rawClient(target.url);
  }
}

/** A load worker: its clients each call the echo tool in a closed loop, every argument new so nothing is cached. */
async function serve(): Promise<void> {
  let clients: EchoClient[] = [];
  let prefix = '';
  let sequence = 0;
  const reply = (message: LoadReply) => process.send?.(message);
  process.on('message', async (command: LoadCommand) => {
    try {
      if (command.type === 'connect') {
        prefix = `w${command.worker}-`;
        clients = await Promise.all(Array.from({ length: command.clients }, () => connect(command.target)));
        return reply({ type: 'ready' });
      }
      if (command.type === 'close') {
        await Promise.all(clients.map((c) => c.close().catch(() => {})));
        reply({ type: 'closed' });
        return process.disconnect();
      }
      const latencies: number[] = [];
      let errors = 0;
      const cpuBefore = process.cpuUsage();
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < command.calls; i++) {
            const started = performance.now();
            try {
              await client.call(`${prefix}${sequence++}`);
            } catch {
              errors++;
            }
            if (command.measured) latencies.push(performance.now() - started);
          }
        }),
      );
      const cpu = process.cpuUsage(cpuBefore);
      reply({ type: 'done', latencies, errors, cpuUs: cpu.user + cpu.system });
    } catch (error) {
      reply({ type: 'failed', message: (error as Error).message });
    }
  });
}

if (process.send !== undefined) await serve();

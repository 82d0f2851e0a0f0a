import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createHarness, NO_BUILTINS } from '../test/helpers/harness.js';
import { SocketClientTransport } from '../test/helpers/socket-transport.js';
import { closedLoop, fmt, type LoadResult } from './driver.js';
import { startSupergateway } from './supergateway.js';
import type { BenchSection } from './types.js';

const ROOT = join(import.meta.dirname, '..');
/** An official MCP server nobody here wrote, run over stdio by both gateways. */
const EVERYTHING = [join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'];
/** Concurrent SDK clients, each with its own session, one request in flight each. */
const CLIENTS = 16;
const REQUESTS = 20_000;
const WARMUP = 2_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/** Connects `CLIENTS` SDK clients, warms them up, then drives uncached `echo` calls in a closed loop. */
async function drive(transport: () => Transport): Promise<LoadResult> {
  const clients: Client[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const client = new Client({ name: 'peer-bench', version: '1' });
      await client.connect(transport());
      clients.push(client);
    }
    const send = (i: number, worker: number) =>
      clients[worker]!.callTool({ name: 'echo', arguments: { message: `m${i}` } }).then(
        (result) => ({ result }) as Record<string, unknown>,
        (error: Error) => ({ error: error.message }),
      );
    await closedLoop(send, CLIENTS, WARMUP);
    return await closedLoop(send, CLIENTS, REQUESTS);
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

/** The same uncached workload through supergateway (stdio → streamable HTTP, stateful) and through omnimind. */
export async function run(): Promise<BenchSection> {
  const h = createHarness({
    children: NO_BUILTINS,
    mcpServers: { everything: { command: process.execPath, args: EVERYTHING } },
  });
  let omnimind: LoadResult;
  let peer: LoadResult;
  try {
    if ((await h.cli(['start'])).code !== 0) throw new Error('omnimind did not start');
    omnimind = await drive(() => new SocketClientTransport(h.socket('everything')));
  } finally {
    await h.cleanup();
  }
  const port = await freePort();
  const gateway = await startSupergateway(`${process.execPath} ${EVERYTHING.join(' ')}`, port);
  try {
    peer = await drive(() => new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  } finally {
    gateway.stop();
  }
  const ratio = omnimind.perSecond / peer.perSecond;
  const row = (name: string, r: LoadResult) =>
    `| ${name} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} / ${fmt(r.p99Ms, 2)} | ${r.errors} |`;
  return {
    title: 'Peer: supergateway and omnimind, same uncached workload',
    command: 'npm run bench -- peer',
    markdown: [
      `${CLIENTS} official MCP SDK clients (one session each), ${REQUESTS} uncached \`tools/call echo\` requests in a`,
      `closed loop after ${WARMUP} warm-up, against \`@modelcontextprotocol/server-everything\` over stdio.`,
      'supergateway 4.0.0 runs stdio → streamable HTTP in stateful mode (it spawns one server process per session);',
      'omnimind shares one server process between the sessions over its unix socket.',
      '',
      '| gateway | req/s | p50 / p99 ms | errors |',
      '|---|---|---|---|',
      row('supergateway (streamable HTTP, stateful)', peer),
      row('omnimind (unix socket)', omnimind),
      '',
      `- omnimind / supergateway throughput: ${fmt(ratio, 2)}×`,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createHarness, FIXTURE, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/http.js';
import { SocketClientTransport } from '../test/helpers/socket-transport.js';
import { fmt, percentile } from './driver.js';
import { cpuSeconds, groupCpuSeconds } from './proc-stats.js';
import { startSupergateway } from './supergateway.js';
import type { BenchSection } from './types.js';

/** SDK clients at once, and calls each makes per measured run (after a tenth as many to warm up). */
const CLIENTS = 64;
const CALLS_PER_CLIENT = 100;

interface Run {
  /** CPU of the gateway and the echo server(s) per request, in µs. */
  cpuUs: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Connects `CLIENTS` SDK clients, then has each call the echo tool in a closed loop; every argument is new. */
async function measure(connect: () => Transport, cpu: () => number): Promise<Run> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new Client({ name: 'bench', version: '1.0.0' });
      await client.connect(connect());
      return client;
    }),
  );
  let sequence = 0;
  const loop = async (calls: number, latencies: number[]) => {
    let errors = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < calls; i++) {
          const started = performance.now();
          try {
            await client.callTool({ name: 'echo', arguments: { text: `m${sequence++}` } });
          } catch {
            errors++;
          }
          latencies.push(performance.now() - started);
        }
      }),
    );
    return errors;
  };
  await loop(CALLS_PER_CLIENT / 10, []);
  const latencies: number[] = [];
  const cpuBefore = cpu();
  const started = performance.now();
  const errors = await loop(CALLS_PER_CLIENT, latencies);
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = ((cpu() - cpuBefore) / (CLIENTS * CALLS_PER_CLIENT)) * 1e6;
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  latencies.sort((a, b) => a - b);
  return {
    cpuUs,
    perSecond: (CLIENTS * CALLS_PER_CLIENT) / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

/** 64 SDK clients: omnimind's HTTP front vs supergateway (stateful Streamable HTTP), and vs omnimind's unix socket. */
export async function run(): Promise<BenchSection> {
  const port = await freePort();
  const h = createHarness({
    children: NO_BUILTINS,
    mcpServers: { echo: fixture() },
    http: { listen: `127.0.0.1:${port}`, auth: 'none' },
  });
  const results: Record<string, Run> = {};
  try {
    await h.cli(['start']);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      supervisor: { pid: number };
      children: Array<{ pid: number }>;
    };
    const cpu = () => cpuSeconds(status.supervisor.pid) + cpuSeconds(status.children[0]!.pid);
    results.omnimindHttp = await measure(
      () => new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/echo`)),
      cpu,
    );
    results.omnimindSocket = await measure(() => new SocketClientTransport(h.socket('echo')), cpu);
  } finally {
    await h.cleanup();
  }
  const gatewayPort = await freePort();
  const gateway = await startSupergateway(`${process.execPath} ${FIXTURE}`, gatewayPort);
  try {
    results.supergateway = await measure(
      () => new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gatewayPort}/mcp`)),
      () => groupCpuSeconds(gateway.pid),
    );
  } finally {
    gateway.stop();
  }
  const row = (name: string, r: Run) =>
    `| ${name} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.cpuUs, 0)} | ${r.errors} |`;
  const { omnimindHttp, omnimindSocket, supergateway } = results as Record<string, Run>;
  const versusPeer = omnimindHttp!.perSecond / supergateway!.perSecond;
  const versusSocket = omnimindHttp!.perSecond / omnimindSocket!.perSecond;
  const cpuVersusPeer = supergateway!.cpuUs / omnimindHttp!.cpuUs;
  return {
    title: 'HTTP front: 64 SDK clients over Streamable HTTP, vs supergateway and vs the unix socket',
    command: 'npm run bench -- http',
    markdown: [
      `${CLIENTS} official SDK 1.x clients at once, each making ${CALLS_PER_CLIENT} \`tools/call\` echo requests in a closed loop`,
      '(after a tenth as many to warm up), every argument new so nothing is cached; one run each. supergateway 4 in its',
      'stateful Streamable HTTP mode (`--stateful`: one fixture process per session) over the same fixture server.',
      '',
      'CPU: the gateway and the echo server(s) (for supergateway its whole process group), per request; the clients run',
      "in the bench's own process, on the same two shared cores, and are what limits HTTP throughput here.",
      '',
      '| path | req/s | p50 ms | p99 ms | server-side CPU µs/request | errors |',
      '|---|---|---|---|---|---|',
      row('omnimind, HTTP (`/mcp/echo`)', omnimindHttp!),
      row('omnimind, unix socket', omnimindSocket!),
      row('supergateway, stateful Streamable HTTP', supergateway!),
      '',
      `- omnimind over HTTP: ${fmt(versusPeer, 2)}× supergateway's throughput (goal ≥ 10×): ${versusPeer >= 10 ? 'met' : 'missed'}`,
      `- omnimind over HTTP: ${fmt(versusSocket, 2)}× the unix socket path (goal ≥ 0.5×): ${versusSocket >= 0.5 ? 'met' : 'missed'}`,
      `- server-side CPU per request: supergateway uses ${fmt(cpuVersusPeer, 2)}× what omnimind over HTTP uses`,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { createHarness, FIXTURE, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/http.js';
import { fmt, percentile } from './driver.js';
import type { LoadCommand, LoadReply, LoadTarget } from './http-load.js';
import { cpuSeconds, descendantsCpuSeconds } from './proc-stats.js';
import { startSupergateway } from './supergateway.js';
import type { BenchSection } from './types.js';

/** Load worker processes, SDK clients in each (64 in all), and calls each client makes per measured run. */
const WORKERS = 4;
const CLIENTS_PER_WORKER = 16;
const CLIENTS = WORKERS * CLIENTS_PER_WORKER;
const CALLS_PER_CLIENT = 100;
const WORKER = new URL('./http-load.ts', import.meta.url).pathname;
const INSTANT_SERVER = new URL('./instant-http-server.ts', import.meta.url).pathname;

interface Run {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU per request in µs: the gateway process, the echo server(s) behind it, the load workers. */
  gatewayUs: number;
  echoUs: number;
  loadUs: number;
  errors: number;
}

/** The CPU seconds of a target's gateway process and of the echo server(s) behind it. */
interface ServerCpu {
  gateway(): number;
  echo(): number;
}

/** A forked load worker, answering one command at a time. */
class Worker {
  readonly #process: ChildProcess;
  #waiting: ((reply: LoadReply) => void) | undefined;

  constructor() {
    this.#process = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#process.on('message', (reply: LoadReply) => this.#waiting?.(reply));
  }

  ask(command: LoadCommand): Promise<LoadReply> {
    return new Promise((resolve, reject) => {
      this.#waiting = (reply) => (reply.type === 'failed' ? reject(new Error(reply.message)) : resolve(reply));
      this.#process.send(command);
    });
  }

  kill(): void {
    this.#process.kill('SIGKILL');
  }
}

/** 4 worker processes of 16 clients each call the echo tool in a closed loop: a tenth to warm up, then measured. */
async function measure(target: LoadTarget, server: ServerCpu): Promise<Run> {
  const workers = Array.from({ length: WORKERS }, () => new Worker());
  try {
    await Promise.all(
      workers.map((w, worker) => w.ask({ type: 'connect', target, clients: CLIENTS_PER_WORKER, worker })),
    );
    await Promise.all(workers.map((w) => w.ask({ type: 'run', calls: CALLS_PER_CLIENT / 10, measured: false })));
    const gatewayBefore = server.gateway();
    const echoBefore = server.echo();
    const started = performance.now();
    const replies = await Promise.all(
      workers.map((w) => w.ask({ type: 'run', calls: CALLS_PER_CLIENT, measured: true })),
    );
    const seconds = (performance.now() - started) / 1000;
    const requests = CLIENTS * CALLS_PER_CLIENT;
    const perRequest = (cpu: number) => (cpu / requests) * 1e6;
    const gatewayUs = perRequest(server.gateway() - gatewayBefore);
    const echoUs = perRequest(server.echo() - echoBefore);
    await Promise.all(workers.map((w) => w.ask({ type: 'close' })));
    const done = replies.filter((r) => r.type === 'done');
    const latencies = done.flatMap((r) => r.latencies);
    return {
      perSecond: requests / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      gatewayUs,
      echoUs,
      loadUs: done.reduce((sum, r) => sum + r.cpuUs, 0) / requests,
      errors: done.reduce((sum, r) => sum + r.errors, 0),
    };
  } finally {
    for (const worker of workers) worker.kill();
  }
}

/**
 * 64 SDK clients in 4 load processes: omnimind's HTTP front vs supergateway (stateful Streamable HTTP), and vs
 * omnimind's unix socket; then the same HTTP targets with a raw keep-alive generator, to show the SDK client's share.
 */
export async function run(): Promise<BenchSection> {
  const port = await freePort();
  const h = createHarness({
    children: NO_BUILTINS,
    mcpServers: { echo: fixture() },
    http: { listen: `127.0.0.1:${port}`, auth: 'none' },
  });
  const results: Record<string, Run> = {};
  const omnimindUrl = `http://127.0.0.1:${port}/mcp/echo`;
  try {
    await h.cli(['start']);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      supervisor: { pid: number };
      children: Array<{ pid: number }>;
    };
    const cpu: ServerCpu = {
      gateway: () => cpuSeconds(status.supervisor.pid),
      echo: () => cpuSeconds(status.children[0]!.pid),
    };
    results.omnimindHttp = await measure({ kind: 'sdk-http', url: omnimindUrl }, cpu);
    results.omnimindSocket = await measure({ kind: 'sdk-socket', path: h.socket('echo') }, cpu);
    results.omnimindRaw = await measure({ kind: 'raw-http', url: omnimindUrl }, cpu);
  } finally {
    await h.cleanup();
  }
  const gatewayPort = await freePort();
  const gateway = await startSupergateway(`${process.execPath} ${FIXTURE}`, gatewayPort);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}/mcp`;
  try {
    const cpu: ServerCpu = {
      gateway: () => cpuSeconds(gateway.pid),
      // Its fixture processes are detached into process groups of their own: counted as its descendants.
      echo: () => descendantsCpuSeconds(gateway.pid),
    };
    results.supergateway = await measure({ kind: 'sdk-http', url: gatewayUrl }, cpu);
    results.supergatewayRaw = await measure({ kind: 'raw-http', url: gatewayUrl }, cpu);
  } finally {
    gateway.stop();
  }
  const instantPort = await freePort();
  const instant = fork(INSTANT_SERVER, [String(instantPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise((resolve) => instant.once('message', resolve));
    const cpu: ServerCpu = { gateway: () => cpuSeconds(instant.pid as number), echo: () => 0 };
    results.instant = await measure({ kind: 'sdk-http', url: `http://127.0.0.1:${instantPort}/mcp` }, cpu);
  } finally {
    instant.kill('SIGKILL');
  }
  const row = (name: string, r: Run) =>
    `| ${name} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.gatewayUs, 0)} | ${fmt(r.echoUs, 0)} | ${fmt(r.loadUs, 0)} | ${r.errors} |`;
  const {
    omnimindHttp,
    omnimindSocket,
    omnimindRaw,
    supergateway,
    supergatewayRaw,
    instant: ceiling,
  } = results as Record<string, Run>;
  const versusPeer = omnimindHttp!.perSecond / supergateway!.perSecond;
  const versusSocket = omnimindHttp!.perSecond / omnimindSocket!.perSecond;
  const rawVersusPeer = omnimindRaw!.perSecond / supergatewayRaw!.perSecond;
  const cpuVersusPeer = supergateway!.gatewayUs / omnimindHttp!.gatewayUs;
  const cores = availableParallelism();
  // With every core busy, the load generator alone allows no more than this many requests a second.
  const clientCap = (r: Run) => (cores * 1e6) / r.loadUs;
  return {
    title: 'HTTP front: 64 SDK clients over Streamable HTTP, vs supergateway and vs the unix socket',
    command: 'npm run bench -- http',
    markdown: [
      `${CLIENTS} official SDK 1.x clients at once, in ${WORKERS} load processes of ${CLIENTS_PER_WORKER} (forked, the same for every`,
      `target), each client making ${CALLS_PER_CLIENT} \`tools/call\` echo requests in a closed loop (after a tenth as many to warm up),`,
      'every argument new so nothing is cached; one run each. supergateway 4 in its stateful Streamable HTTP mode',
      '(`--stateful`: one fixture process per session) over the same fixture server. The raw rows replace the SDK client',
      'with a keep-alive `node:http` generator (one session and one connection per client, JSON answers): not the SDK.',
      '',
      'CPU per request: the gateway process (omnimind: the supervisor), the echo server(s) behind it, and the load',
      'processes. Everything shares the same two cores, so the load processes take CPU from the servers.',
      '',
      '| path | req/s | p50 ms | p99 ms | gateway CPU µs/req | echo server CPU µs/req | load generator CPU µs/req | errors |',
      '|---|---|---|---|---|---|---|---|',
      row('omnimind, HTTP (`/mcp/echo`), SDK clients', omnimindHttp!),
      row('omnimind, unix socket, SDK clients', omnimindSocket!),
      row('supergateway, stateful Streamable HTTP, SDK clients', supergateway!),
      row('omnimind, HTTP, raw keep-alive generator (no SDK)', omnimindRaw!),
      row('supergateway, raw keep-alive generator (no SDK)', supergatewayRaw!),
      row('the same SDK clients against a server that answers at once (nothing behind it)', ceiling!),
      '',
      `- omnimind over HTTP: ${fmt(versusPeer, 2)}× supergateway's throughput with SDK clients (goal ≥ 10×): ${versusPeer >= 10 ? 'met' : 'missed'}`,
      `- omnimind over HTTP: ${fmt(versusSocket, 2)}× the unix socket path (goal ≥ 0.5×): ${versusSocket >= 0.5 ? 'met' : 'missed'}`,
      `- with the raw generator: ${fmt(rawVersusPeer, 2)}× supergateway's throughput`,
      `- gateway CPU per request: supergateway uses ${fmt(cpuVersusPeer, 2)}× what omnimind's supervisor uses over HTTP`,
      `- the SDK 1.x HTTP client spends ${fmt(omnimindHttp!.loadUs, 0)} µs of CPU per request (${fmt(omnimindHttp!.loadUs / omnimindHttp!.gatewayUs, 1)}× the supervisor's ${fmt(omnimindHttp!.gatewayUs, 0)} µs;`,
      `  over a socket it spends ${fmt(omnimindSocket!.loadUs, 0)} µs): on ${cores} cores the clients alone cap HTTP at about ${fmt(clientCap(omnimindHttp!), 0)} req/s through`,
      `  omnimind and ${fmt(clientCap(supergateway!), 0)} req/s through supergateway, so with these clients on this machine the client, not the gateway, sets the ratio`,
      `- measured: against a server that does nothing but answer, these 64 SDK clients reach ${fmt(ceiling!.perSecond, 0)} req/s. omnimind over HTTP reaches ${fmt((omnimindHttp!.perSecond / ceiling!.perSecond) * 100, 0)} % of that ceiling;`,
      `  10× supergateway would be ${fmt(10 * supergateway!.perSecond, 0)} req/s (${fmt((10 * supergateway!.perSecond) / ceiling!.perSecond, 1)}× the ceiling), 0.5× the socket path ${fmt(0.5 * omnimindSocket!.perSecond, 0)} req/s (${fmt((0.5 * omnimindSocket!.perSecond) / ceiling!.perSecond, 1)}× the ceiling)`,
      `- load average when the section ended: ${loadavg()
        .map((l) => fmt(l, 2))
        .join(', ')} (this bench's own load processes included)`,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

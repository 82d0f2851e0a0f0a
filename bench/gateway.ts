import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { callControl } from '../src/supervisor/index.js';
import { createHarness, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { countTraceRequestSpans } from '../test/helpers/otlp-protobuf.js';
import { alternately, closedLoop, fmt, type LoadResult, percentile, socketRpc, stdioRpc } from './driver.js';
import { cpuSeconds } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** Requests per measured run: enough for a stable p99 at every concurrency. */
const REQUESTS = 20_000;
/** Runs of each side per concurrency, the order alternating; each figure is the median of its runs. */
const ROUNDS = 3;
const CONCURRENCIES = [1, 8, 64];
/**
 * Rounds of the telemetry comparison, each loading the three supervisors in turn (the order rotating): the median of
 * paired differences shrugs off a noisy neighbour, and each run is long enough for /proc's 10 ms CPU ticks.
 */
const TELEMETRY_ROUNDS = 7;
/** Requests per run of the telemetry comparison. */
const TELEMETRY_REQUESTS = 10_000;
/** The concurrency of the telemetry comparison: a typical busy client, far from the limiter's limits. */
const TELEMETRY_CONCURRENCY = 8;

/**
 * An OTLP/HTTP receiver in this process: takes each export (protobuf), counts its spans without decoding them (the
 * receiver shares the machine with the supervisors it measures), answers 200.
 */
async function otlpReceiver(): Promise<{ url: string; spans(): number; bytes(): number; close(): void }> {
  let spans = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      bytes += body.length;
      spans += countTraceRequestSpans(body);
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => spans,
    bytes: () => bytes,
    close: () => server.close(),
  };
}

/**
 * Supervisor CPU per uncached echo with both metrics and tracing off, metrics only, and both on (spans exported to a
 * receiver in this process): three supervisors loaded in turn, same child, same load.
 */
async function telemetryCost(): Promise<{ rows: string[]; verdict: string; bytesPerSpan: number }> {
  const server = fixture();
  const receiver = await otlpReceiver();
  const off = createHarness({ children: NO_BUILTINS, mcpServers: { echo: server }, metrics: { enabled: false } });
  const metricsOnly = createHarness({ children: NO_BUILTINS, mcpServers: { echo: server } });
  const on = createHarness({
    children: NO_BUILTINS,
    mcpServers: { echo: server },
    tracing: { otlpEndpoint: receiver.url },
  });
  try {
    for (const h of [off, metricsOnly, on]) await h.cli(['start']);
    const pids = await Promise.all(
      [off, metricsOnly, on].map(
        async (h) => (await callControl(join(h.runtimeDir, 'control.sock'), 'status', {})).supervisor.pid,
      ),
    );
    const rpcs = await Promise.all([off, metricsOnly, on].map((h) => socketRpc(h.socket('echo'))));
    const call = (rpc: (typeof rpcs)[number]['rpc']) => (i: number) =>
      rpc.request('tools/call', { name: 'echo', arguments: { text: `m${i}` } });
    const perRequestUs: [number[], number[], number[]] = [[], [], []];
    for (const { rpc } of rpcs) await closedLoop(call(rpc), TELEMETRY_CONCURRENCY, 2000);
    for (let round = 0; round < TELEMETRY_ROUNDS; round++) {
      for (let k = 0; k < rpcs.length; k++) {
        const i = (round + k) % rpcs.length;
        const cpu0 = cpuSeconds(pids[i]!);
        await closedLoop(call(rpcs[i]!.rpc), TELEMETRY_CONCURRENCY, TELEMETRY_REQUESTS);
        perRequestUs[i]!.push(((cpuSeconds(pids[i]!) - cpu0) / TELEMETRY_REQUESTS) * 1e6);
      }
    }
    for (const { close } of rpcs) close();
    const spansSent = 2000 + TELEMETRY_ROUNDS * TELEMETRY_REQUESTS;
    const exported = await waitForSpans(receiver.spans, spansSent);
    const { text } = await callControl(join(on.runtimeDir, 'control.sock'), 'metrics', {});
    const lost = (outcome: string) =>
      Number(new RegExp(`^omnimind_trace_spans_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
    const [offUs, metricsUs, onUs] = perRequestUs.map(median) as [number, number, number];
    const extra = (runs: number[]) => median(runs.map((us, i) => us - perRequestUs[0][i]!));
    const metricsExtraUs = extra(perRequestUs[1]);
    const extraUs = extra(perRequestUs[2]);
    return {
      bytesPerSpan: receiver.bytes() / Math.max(1, exported),
      rows: [
        `| both off (\`metrics: {enabled: false}\`) | ${fmt(offUs, 1)} µs | – | ${perRequestUs[0].map((v) => fmt(v, 1)).join(', ')} | – |`,
        `| metrics on, tracing off (the default) | ${fmt(metricsUs, 1)} µs | ${fmt(metricsExtraUs, 1)} µs | ${perRequestUs[1].map((v) => fmt(v, 1)).join(', ')} | – |`,
        `| metrics + tracing on, spans to a local OTLP receiver | ${fmt(onUs, 1)} µs | ${fmt(extraUs, 1)} µs | ${perRequestUs[2].map((v) => fmt(v, 1)).join(', ')} | ${exported} of ${spansSent} (${lost('dropped')} dropped, ${lost('failed')} failed) |`,
      ],
      verdict:
        `metrics + tracing cost: ${fmt(extraUs, 1)} µs of supervisor CPU per request (median of ${TELEMETRY_ROUNDS} paired runs; goal ≤ 3 µs): ${extraUs <= 3 ? 'met' : 'missed'}` +
        `; metrics alone: ${fmt(metricsExtraUs, 1)} µs`,
    };
  } finally {
    await Promise.all([off.cleanup(), metricsOnly.cleanup(), on.cleanup()]);
    receiver.close();
  }
}

/**
 * Waits until the receiver has `expected` spans or gets no more within 1.5 s (longer than the 1 s after which a
 * partial batch leaves); returns how many it got.
 */
async function waitForSpans(spans: () => number, expected: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20 && spans() < expected && spans() !== last; i++) {
    last = spans();
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  return spans();
}

/** One measured run: the load's figures, and the CPU per request of the load generator and the supervisor. */
type Measured = LoadResult & { clientUs: number; supervisorUs: number };

/** Each figure of a set of runs, the median of the runs (throughput, latency and CPU each on its own). */
function medianRun(runs: Measured[]): Measured {
  const median = (pick: (run: Measured) => number) => percentile(runs.map(pick), 0.5);
  return {
    requests: median((r) => r.requests),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    seconds: median((r) => r.seconds),
    perSecond: median((r) => r.perSecond),
    p50Ms: median((r) => r.p50Ms),
    p99Ms: median((r) => r.p99Ms),
    clientUs: median((r) => r.clientUs),
    supervisorUs: median((r) => r.supervisorUs),
  };
}

/** Starts measuring this process's own CPU (the load generator's); the returned function gives µs per request. */
function loadCpu(): () => number {
  const start = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / REQUESTS;
  };
}

/** Uncached echo through omnimind vs. the same child driven directly over stdio, same run. */
export async function run(): Promise<BenchSection> {
  const server = fixture();
  const h = createHarness({
    children: NO_BUILTINS,
    mcpServers: { echo: server, cached: { ...server, cache: { tools: { echo: true } } } },
  });
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    await h.cli(['start']);
    const supervisorPid = (await callControl(join(h.runtimeDir, 'control.sock'), 'status', {})).supervisor.pid;
    for (const concurrency of CONCURRENCIES) {
      const direct = await stdioRpc(server.command, server.args);
      const viaSocket = await socketRpc(h.socket('echo'));
      const call = (rpc: typeof direct.rpc) => (i: number) =>
        rpc.request('tools/call', { name: 'echo', arguments: { text: `m${i}` } });
      await closedLoop(call(direct.rpc), concurrency, 2000);
      await closedLoop(call(viaSocket.rpc), concurrency, 2000);
      const directRuns: Measured[] = [];
      const omnimindRuns: Measured[] = [];
      const measureDirect = async () => {
        const load = loadCpu();
        const result = await closedLoop(call(direct.rpc), concurrency, REQUESTS);
        directRuns.push({ ...result, clientUs: load(), supervisorUs: 0 });
      };
      const measureOmnimind = async () => {
        const cpu0 = cpuSeconds(supervisorPid);
        const load = loadCpu();
        const result = await closedLoop(call(viaSocket.rpc), concurrency, REQUESTS);
        const clientUs = load();
        omnimindRuns.push({ ...result, clientUs, supervisorUs: ((cpuSeconds(supervisorPid) - cpu0) / REQUESTS) * 1e6 });
      };
      await alternately(ROUNDS, measureDirect, measureOmnimind);
      direct.close();
      viaSocket.close();
      const d = medianRun(directRuns);
      const o = medianRun(omnimindRuns);
      const supervisorUs = o.supervisorUs;
      const ratio = o.perSecond / d.perSecond;
      const overheadUs = (o.p50Ms - d.p50Ms) * 1000;
      rows.push(
        `| ${concurrency} | ${fmt(d.perSecond, 0)} | ${fmt(o.perSecond, 0)} | ${fmt(ratio, 2)}× | ${fmt(d.p50Ms, 3)} / ${fmt(d.p99Ms, 3)} | ${fmt(o.p50Ms, 3)} / ${fmt(o.p99Ms, 3)} | ${fmt(overheadUs, 0)} µs | ${fmt(supervisorUs, 1)} µs | ${fmt(d.clientUs, 1)} / ${fmt(o.clientUs, 1)} µs | ${o.errors + d.errors} |`,
      );
      if (concurrency === 64) {
        verdicts.push(
          `throughput at concurrency 64: ${fmt(ratio, 2)}× direct (goal ≥ 0.8×): ${ratio >= 0.8 ? 'met' : 'missed'}`,
          `supervisor CPU per uncached request at concurrency 64: ${fmt(supervisorUs, 1)} µs (goal ≤ 12 µs): ${supervisorUs <= 12 ? 'met' : 'missed'}; the load generator's own: ${fmt(o.clientUs, 1)} µs`,
        );
      }
      if (concurrency === 1)
        verdicts.push(
          `p50 overhead at concurrency 1: ${fmt(overheadUs, 0)} µs (goal ≤ 40 µs): ${overheadUs <= 40 ? 'met' : 'missed'}`,
        );
    }
    // (a) The same child with its echo tool opted into the cache: a working set of 100 texts, all hits once warm.
    const uncached = await socketRpc(h.socket('echo'));
    const cached = await socketRpc(h.socket('cached'));
    const send = (rpc: typeof cached.rpc, distinct: boolean) => (i: number) =>
      rpc.request('tools/call', { name: 'echo', arguments: { text: distinct ? `m${i}` : `m${i % 100}` } });
    await closedLoop(send(cached.rpc, false), 64, 2000);
    const measured = async (rpc: typeof cached.rpc, distinct: boolean) => {
      const cpu0 = cpuSeconds(supervisorPid);
      const load = loadCpu();
      const result = await closedLoop(send(rpc, distinct), 64, REQUESTS);
      const clientUs = load();
      return { ...result, clientUs, supervisorUs: ((cpuSeconds(supervisorPid) - cpu0) / REQUESTS) * 1e6 };
    };
    const u = await measured(uncached.rpc, true);
    const c = await measured(cached.rpc, false);
    uncached.close();
    cached.close();
    const speedup = c.perSecond / u.perSecond;
    const row = (label: string, r: typeof u) =>
      `| ${label} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50Ms, 3)} / ${fmt(r.p99Ms, 3)} | ${fmt(r.supervisorUs, 1)} µs | ${fmt(r.clientUs, 1)} µs |`;
    rows.push(
      '',
      '| concurrency 64, through omnimind | req/s | p50 / p99 ms | supervisor CPU per request | load generator CPU per request |',
      '|---|---|---|---|---|',
      row('uncached (distinct arguments)', u),
      row('cached (100 repeated arguments, all hits)', c),
    );
    verdicts.push(
      `supervisor CPU per cache hit at concurrency 64: ${fmt(c.supervisorUs, 1)} µs (goal ≤ 6 µs): ${c.supervisorUs <= 6 ? 'met' : 'missed'}; the load generator's own: ${fmt(c.clientUs, 1)} µs`,
      `cached vs uncached throughput: ${fmt(speedup, 1)}× (goal ≥ 10×): ${speedup >= 10 ? 'met' : 'missed'}`,
    );
  } finally {
    await h.cleanup();
  }
  const telemetry = await telemetryCost();
  rows.push(
    '',
    `| concurrency ${TELEMETRY_CONCURRENCY}, uncached echo | supervisor CPU per request (median) | extra (median of pairs) | each run | spans received |`,
    '|---|---|---|---|---|',
    ...telemetry.rows,
  );
  verdicts.push(telemetry.verdict);
  return {
    title: 'Gateway overhead: uncached echo, direct stdio vs. through omnimind',
    command: 'npm run bench -- gateway',
    markdown: [
      `${REQUESTS} \`tools/call echo\` requests per run (after 2,000 warm-up), one connection, closed loop; ${ROUNDS} runs of each side per concurrency, the order alternating, each figure the median of its runs;`,
      'the default limiter config. CPU per request is from /proc (10 ms ticks) for the supervisor and from `process.cpuUsage()` for the load generator (this process: the client side of every request).',
      "Where the supervisor's time goes per request is in the next section (a CPU profile of the supervisor under this load, recorded by hand).",
      `The telemetry rows load three supervisors in turn; tracing's cost is a request span and its OTLP/HTTP protobuf export through the OpenTelemetry SDK's batch processor and exporter (${fmt(telemetry.bytesPerSpan, 0)} bytes a span, serialised and posted by the supervisor), at one span per request.`,
      '',
      '| concurrency | direct req/s | omnimind req/s | ratio | direct p50 / p99 ms | omnimind p50 / p99 ms | p50 overhead | supervisor CPU per request | load generator CPU per request (direct / omnimind) | errors |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      ...verdicts.map((v) => `- ${v}`),
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

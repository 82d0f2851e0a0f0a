import { join } from 'node:path';
import { callControl } from '../src/supervisor/index.js';
import { createHarness, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { closedLoop, fmt, socketRpc, stdioRpc } from './driver.js';
import { cpuSeconds } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** Requests per measured run: enough for a stable p99 at every concurrency. */
const REQUESTS = 20_000;
const CONCURRENCIES = [1, 8, 64];

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
      const d = await closedLoop(call(direct.rpc), concurrency, REQUESTS);
      const cpu0 = cpuSeconds(supervisorPid);
      const o = await closedLoop(call(viaSocket.rpc), concurrency, REQUESTS);
      const supervisorUs = ((cpuSeconds(supervisorPid) - cpu0) / REQUESTS) * 1e6;
      direct.close();
      viaSocket.close();
      const ratio = o.perSecond / d.perSecond;
      const overheadUs = (o.p50Ms - d.p50Ms) * 1000;
      rows.push(
        `| ${concurrency} | ${fmt(d.perSecond, 0)} | ${fmt(o.perSecond, 0)} | ${fmt(ratio, 2)}× | ${fmt(d.p50Ms, 3)} / ${fmt(d.p99Ms, 3)} | ${fmt(o.p50Ms, 3)} / ${fmt(o.p99Ms, 3)} | ${fmt(overheadUs, 0)} µs | ${fmt(supervisorUs, 0)} µs | ${o.errors} |`,
      );
      if (concurrency === 64)
        verdicts.push(
          `throughput at concurrency 64: ${fmt(ratio, 2)}× direct (goal ≥ 0.8×): ${ratio >= 0.8 ? 'met' : 'missed'}`,
        );
      if (concurrency === 1)
        verdicts.push(
          `p50 overhead at concurrency 1: ${fmt(overheadUs, 0)} µs (goal ≤ 100 µs): ${overheadUs <= 100 ? 'met' : 'missed'}`,
        );
    }
    // (a) The same child with its echo tool opted into the cache: a working set of 100 texts, all hits once warm.
    const uncached = await socketRpc(h.socket('echo'));
    const cached = await socketRpc(h.socket('cached'));
    const send = (rpc: typeof cached.rpc, distinct: boolean) => (i: number) =>
      rpc.request('tools/call', { name: 'echo', arguments: { text: distinct ? `m${i}` : `m${i % 100}` } });
    await closedLoop(send(cached.rpc, false), 64, 2000);
    const u = await closedLoop(send(uncached.rpc, true), 64, REQUESTS);
    const c = await closedLoop(send(cached.rpc, false), 64, REQUESTS);
    uncached.close();
    cached.close();
    const speedup = c.perSecond / u.perSecond;
    rows.push(
      '',
      '| concurrency 64, through omnimind | req/s | p50 / p99 ms |',
      '|---|---|---|',
      `| uncached (distinct arguments) | ${fmt(u.perSecond, 0)} | ${fmt(u.p50Ms, 3)} / ${fmt(u.p99Ms, 3)} |`,
      `| cached (100 repeated arguments, all hits) | ${fmt(c.perSecond, 0)} | ${fmt(c.p50Ms, 3)} / ${fmt(c.p99Ms, 3)} |`,
    );
    verdicts.push(
      `cached vs uncached throughput: ${fmt(speedup, 1)}× (goal ≥ 10×): ${speedup >= 10 ? 'met' : 'missed'}`,
    );
  } finally {
    await h.cleanup();
  }
  return {
    title: 'Gateway overhead: uncached echo, direct stdio vs. through omnimind',
    command: 'npm run bench -- gateway',
    markdown: [
      `${REQUESTS} \`tools/call echo\` requests per run (after 2,000 warm-up), one connection, closed loop;`,
      'the default limiter config.',
      '',
      '| concurrency | direct req/s | omnimind req/s | ratio | direct p50 / p99 ms | omnimind p50 / p99 ms | p50 overhead | supervisor CPU per request | errors |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      ...verdicts.map((v) => `- ${v}`),
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

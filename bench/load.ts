import { join } from 'node:path';
import { callControl } from '../src/supervisor/index.js';
import { fmt, percentile } from './driver.js';
import { cpuSeconds, groupCpuSeconds, rssMb } from './proc-stats.js';
import type { BenchSection } from './types.js';
import { CLIENTS, startMixedLoad, WRITE_SHARE } from './workload.js';

/** Measured seconds of load (after a warm-up); OMNIMIND_BENCH_FULL=1 runs longer. */
const SECONDS = process.env.OMNIMIND_BENCH_FULL === '1' ? 60 : 15;
const WARMUP_SECONDS = 3;

/** Seven built-in children through omnimind, 64 SDK clients, 70 % repeated reads / 30 % writes. */
export async function run(): Promise<BenchSection> {
  const load = await startMixedLoad();
  const control = join(load.h.runtimeDir, 'control.sock');
  try {
    let measuring = false;
    let stop = false;
    let errors = 0;
    const errorKinds = new Map<string, number>();
    const latencies: number[] = [];
    const perChild = new Map<string, number[]>();
    let maxQueue = 0;
    const driving = load.drive(
      () => stop,
      (op, ms, error) => {
        if (!measuring) return;
        if (error) {
          errors++;
          const kind = error.message.slice(0, 100);
          errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
          return;
        }
        latencies.push(ms);
        perChild.get(op.child)?.push(ms) ?? perChild.set(op.child, [ms]);
      },
    );
    let r: LoadFigures;
    try {
      await new Promise((resolve) => setTimeout(resolve, WARMUP_SECONDS * 1000));
      const status = await callControl(control, 'status', {});
      const pid = status.supervisor.pid;
      const groups = status.children.flatMap((child) => (child.pid ? [{ name: child.name, pgid: child.pid }] : []));
      const groupCpu0 = groups.map((g) => groupCpuSeconds(g.pgid));
      const cpu0 = cpuSeconds(pid);
      const loadCpu0 = process.cpuUsage();
      const rss0 = rssMb(pid);
      measuring = true;
      const t0 = performance.now();
      const sampler = setInterval(() => {
        void callControl(control, 'status', {}).then((s) => {
          maxQueue = Math.max(maxQueue, s.limiter.queued);
        });
      }, 500);
      await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
      measuring = false;
      clearInterval(sampler);
      const elapsed = (performance.now() - t0) / 1000;
      const loadCpu = process.cpuUsage(loadCpu0);
      const supervisorCpu = cpuSeconds(pid) - cpu0;
      const childCpu = groups.map((g, k) => ({ name: g.name, seconds: groupCpuSeconds(g.pgid) - groupCpu0[k]! }));
      const end = await callControl(control, 'status', {});
      const requests = latencies.length + errors;
      const hits = end.cache.hits - status.cache.hits;
      const misses = end.cache.misses - status.cache.misses;
      r = {
        rps: requests / elapsed,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        errorRate: requests === 0 ? 0 : errors / requests,
        hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
        cpu: (supervisorCpu / elapsed) * 100,
        rss0,
        rss: rssMb(pid),
        limiterRps: end.limiter.rps,
        cpuPerRequestUs: [
          { name: `load generator (${CLIENTS} SDK clients)`, seconds: (loadCpu.user + loadCpu.system) / 1e6 },
          { name: 'supervisor', seconds: supervisorCpu },
          ...childCpu.map((c) => ({ name: `child ${c.name}`, seconds: c.seconds })),
        ].map((c) => ({ name: c.name, us: (c.seconds / Math.max(1, requests)) * 1e6 })),
        children: [...perChild].map(([name, ms]) => ({
          name,
          rps: ms.length / elapsed,
          p50: percentile(ms, 0.5),
          p99: percentile(ms, 0.99),
        })),
      };
    } finally {
      stop = true;
      await driving;
    }
    const kinds = [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 3);
    return {
      title: 'Load: seven built-in children, 64 MCP SDK clients',
      command: 'npm run bench -- load',
      markdown: [
        `${CLIENTS} official MCP SDK clients in one process (closed loop), spread over the seven built-in children by`,
        `weight, ${Math.round((1 - WRITE_SHARE) * 100)} % repeated reads / ${Math.round(WRITE_SHARE * 100)} % writes, ${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up.`,
        'The load generator shares the two cores with the supervisor and the children. The config is the default.',
        '',
        '| measure | value | goal |',
        '|---|---|---|',
        `| throughput | ${fmt(r.rps, 0)} req/s | ≥ 20,000 req/s (the system this replaces hoped for 500) |`,
        `| p50 / p99 | ${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} ms | p99 ≤ 10 ms |`,
        `| error rate | ${fmt(r.errorRate * 100, 3)} % | < 0.1 % |`,
        `| cache hit rate | ${fmt(r.hitRate * 100, 1)} % | |`,
        `| max limiter queue depth (sampled) | ${maxQueue} | ≤ maxQueue |`,
        `| limiter rate at the end | ${fmt(r.limiterRps, 0)} rps | |`,
        `| supervisor CPU | ${fmt(r.cpu, 0)} % of one core | |`,
        `| supervisor RSS before → after | ${fmt(r.rss0)} → ${fmt(r.rss)} MB | stable |`,
        '',
        'Per child (clients are pinned to one child each, in proportion to its weight):',
        '',
        '| child | req/s | p50 / p99 ms |',
        '|---|---|---|',
        ...r.children
          .sort((a, b) => b.rps - a.rps)
          .map((c) => `| ${c.name} | ${fmt(c.rps, 0)} | ${fmt(c.p50, 2)} / ${fmt(c.p99, 2)} |`),
        '',
        'CPU per request, by process (the two cores are the budget: 20,000 req/s allows 100 µs in all):',
        '',
        '| process | CPU µs per request |',
        '|---|---|',
        ...r.cpuPerRequestUs.map((c) => `| ${c.name} | ${fmt(c.us, 0)} |`),
        `| all | ${fmt(
          r.cpuPerRequestUs.reduce((sum, c) => sum + c.us, 0),
          0,
        )} |`,
        ...(kinds.length ? ['', 'Most frequent errors:', ...kinds.map(([k, n]) => `- ${n}× ${k}`)] : []),
      ].join('\n'),
    };
  } finally {
    await load.close();
  }
}

/** What one load run measured. */
interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  errorRate: number;
  hitRate: number;
  cpu: number;
  rss0: number;
  rss: number;
  limiterRps: number;
  cpuPerRequestUs: Array<{ name: string; us: number }>;
  children: Array<{ name: string; rps: number; p50: number; p99: number }>;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

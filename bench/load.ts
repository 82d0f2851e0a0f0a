import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { callControl } from '../src/supervisor/index.js';
import { createHarness } from '../test/helpers/harness.js';
import { SocketClientTransport } from '../test/helpers/socket-transport.js';
import { fmt } from './driver.js';
import { cpuSeconds, groupCpuSeconds, rssMb } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** Concurrent MCP SDK clients, as the goal states. */
const CLIENTS = 64;
/** Measured seconds of load (after a warm-up); OMNIMIND_BENCH_FULL=1 runs longer. */
const SECONDS = process.env.OMNIMIND_BENCH_FULL === '1' ? 60 : 15;
const WARMUP_SECONDS = 3;
/** Share of writes in the mix. */
const WRITE_SHARE = 0.3;

type Op = { child: string; tool: string; args: (i: number) => Record<string, unknown> };

/** Per child: a small set of repeated reads and a write, weighted by how often clients would use the child. */
function workload(root: string): Array<{ weight: number; reads: Op[]; write: Op }> {
  return [
    {
      weight: 30,
      reads: [
        { child: 'memory', tool: 'search_nodes', args: (i) => ({ query: `topic${i % 10}` }) },
        { child: 'memory', tool: 'open_nodes', args: (i) => ({ names: [`entity${i % 20}`] }) },
      ],
      write: {
        child: 'memory',
        tool: 'add_observations',
        args: (i) => ({ observations: [{ entityName: `entity${i % 20}`, contents: [`observation ${i}`] }] }),
      },
    },
    {
      weight: 20,
      reads: [
        {
          child: 'context',
          tool: 'retrieve_context',
          args: (i) => ({ level: 'project', query: `topic${i % 10}`, limit: 5 }),
        },
      ],
      write: {
        child: 'context',
        tool: 'store_context',
        args: (i) => ({ level: 'task', content: `note ${i} about topic${i % 10}` }),
      },
    },
    {
      weight: 20,
      reads: [
        { child: 'filesystem', tool: 'read_text_file', args: (i) => ({ path: join(root, `file${i % 10}.txt`) }) },
        { child: 'filesystem', tool: 'list_directory', args: () => ({ path: root }) },
      ],
      write: {
        child: 'filesystem',
        tool: 'write_file',
        args: (i) => ({ path: join(root, `out${i % 10}.txt`), content: `v${i}` }),
      },
    },
    {
      weight: 20,
      reads: [
        { child: 'sqlite', tool: 'read_query', args: (i) => ({ query: `SELECT * FROM items WHERE id = ${i % 50}` }) },
      ],
      write: {
        child: 'sqlite',
        tool: 'write_query',
        args: (i) => ({ query: `UPDATE items SET hits = hits + 1 WHERE id = ${i % 50}` }),
      },
    },
    {
      weight: 5,
      reads: [{ child: 'thinking', tool: 'list_sessions', args: () => ({}) }],
      write: {
        child: 'thinking',
        tool: 'sequentialthinking',
        args: (i) => ({ thought: `step ${i}`, thoughtNumber: 1, totalThoughts: 3, nextThoughtNeeded: true }),
      },
    },
    {
      weight: 4,
      reads: [
        { child: 'git', tool: 'git_status', args: () => ({ repo_path: root }) },
        { child: 'git', tool: 'git_log', args: () => ({ repo_path: root, max_count: 5 }) },
      ],
      write: { child: 'git', tool: 'git_status', args: () => ({ repo_path: root }) },
    },
    {
      weight: 1,
      reads: [{ child: 'python', tool: 'python_info', args: () => ({}) }],
      write: { child: 'python', tool: 'python_info', args: () => ({}) },
    },
  ];
}

/** Seven built-in children through omnimind, 64 SDK clients, 70 % repeated reads / 30 % writes. */
export async function run(): Promise<BenchSection> {
  const h = createHarness({});
  const root = join(h.dir, 'project');
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(root, `file${i}.txt`), `file ${i} `.repeat(50));
  const { execFileSync } = await import('node:child_process');
  execFileSync('git', ['init', '-q', root]);
  execFileSync('git', ['-C', root, 'add', '.']);
  execFileSync('git', ['-C', root, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init']);
  h.writeConfig({
    children: {
      filesystem: { roots: [root] },
      git: { repositories: [root] },
      sqlite: { database: join(h.dir, 'bench.db') },
    },
  });
  const started = await h.cli(['start'], { timeoutMs: 120_000 });
  if (started.code !== 0) throw new Error(`start failed: ${started.stderr}`);
  const control = join(h.runtimeDir, 'control.sock');
  const ops = workload(root);
  // Clients are spread over children by weight: more clients on the heavily used children.
  const weights = ops.flatMap((o, index) => Array.from({ length: o.weight }, () => index));
  const assignment = Array.from(
    { length: CLIENTS },
    (_, i) => ops[weights[Math.floor((i * weights.length) / CLIENTS)]!]!,
  );
  const clients: Client[] = [];
  try {
    for (const mix of assignment) {
      const client = new Client({ name: 'load', version: '1' });
      await client.connect(new SocketClientTransport(h.socket(mix.write.child)));
      clients.push(client);
    }
    const seed = await h.client('memory');
    await seed.callTool({
      name: 'create_entities',
      arguments: {
        entities: Array.from({ length: 20 }, (_, i) => ({
          name: `entity${i}`,
          entityType: 'topic',
          observations: [`about topic${i % 10}`],
        })),
      },
    });
    const sqlite = await h.client('sqlite');
    await sqlite.callTool({
      name: 'create_table',
      arguments: { query: 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, hits INTEGER DEFAULT 0)' },
    });
    await sqlite.callTool({
      name: 'write_query',
      arguments: {
        query: `INSERT INTO items (id, name) VALUES ${Array.from({ length: 50 }, (_, i) => `(${i}, 'item${i}')`).join(',')}`,
      },
    });
    let measuring = false;
    let stop = false;
    let errors = 0;
    const errorKinds = new Map<string, number>();
    const latencies: number[] = [];
    const perChild = new Map<string, number[]>();
    let maxQueue = 0;
    await Promise.all([
      ...clients.map(async (client, c) => {
        const mix = assignment[c]!;
        let i = c * 1000;
        while (!stop) {
          i++;
          const op = Math.random() < WRITE_SHARE ? mix.write : mix.reads[i % mix.reads.length]!;
          const t0 = performance.now();
          try {
            const result = await client.callTool({ name: op.tool, arguments: op.args(i) });
            if (result.isError)
              throw new Error(`tool error ${op.child}/${op.tool}: ${JSON.stringify(result.content).slice(0, 120)}`);
            if (!measuring) continue;
            const ms = performance.now() - t0;
            latencies.push(ms);
            perChild.get(op.child)?.push(ms) ?? perChild.set(op.child, [ms]);
          } catch (error) {
            if (!measuring) continue;
            errors++;
            const kind = (error as Error).message.slice(0, 100);
            errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
          }
        }
      }),
      (async () => {
        await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
        const status = await callControl(control, 'status', {});
        const pid = status.supervisor.pid;
        const groups = status.children.map((child) => ({ name: child.name, pgid: child.pid ?? 0 }));
        const groupCpu0 = groups.map((g) => groupCpuSeconds(g.pgid));
        const cpu0 = cpuSeconds(pid);
        const loadCpu0 = process.cpuUsage();
        const hits0 = status.cache.hits;
        const misses0 = status.cache.misses;
        const rss0 = rssMb(pid);
        measuring = true;
        const t0 = performance.now();
        const sampler = setInterval(() => {
          void callControl(control, 'status', {}).then((s) => {
            maxQueue = Math.max(maxQueue, s.limiter.queued);
          });
        }, 500);
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        measuring = false;
        clearInterval(sampler);
        const elapsed = (performance.now() - t0) / 1000;
        const loadCpu = process.cpuUsage(loadCpu0);
        const supervisorCpu = cpuSeconds(pid) - cpu0;
        const childCpu = groups.map((g, k) => ({ name: g.name, seconds: groupCpuSeconds(g.pgid) - groupCpu0[k]! }));
        const end = await callControl(control, 'status', {});
        stop = true;
        const requests = latencies.length + errors;
        const hits = end.cache.hits - hits0;
        const misses = end.cache.misses - misses0;
        result = {
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
            { name: 'load generator (64 SDK clients)', seconds: (loadCpu.user + loadCpu.system) / 1e6 },
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
      })(),
    ]);
    const r = result!;
    const kinds = [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 3);
    return {
      title: 'Load: seven built-in children, 64 MCP SDK clients',
      command: 'npm run bench -- load',
      markdown: [
        `${CLIENTS} official MCP SDK clients in one process (closed loop), spread over the seven built-in children by`,
        `weight, ${Math.round((1 - WRITE_SHARE) * 100)} % repeated reads / ${Math.round(WRITE_SHARE * 100)} % writes, ${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up.`,
        'The load generator shares the two cores with the supervisor and the children.',
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
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h.cleanup();
  }
}

let result:
  | {
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
  | undefined;

/** The q-quantile of unsorted samples (sorts them in place). */
function percentile(values: number[], q: number): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(q * (values.length - 1))] ?? 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

import { cpus, loadavg } from 'node:os';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createHarness, NO_BUILTINS, waitFor } from '../test/helpers/harness.js';
import { fmt, percentile } from './driver.js';
import type { BenchSection } from './types.js';

/** First calls timed per built-in: enough for a median on a shared machine. */
const FIRST_CALLS = 8;
/** Reloads of the changed child while the others are called. */
const RELOADS = 5;
/** Clients calling the children a reload keeps. */
const CALLERS = 16;
/** The first call to an IDLE child must not take longer than this (issue goal). */
const FIRST_CALL_GOAL_MS = 400;
/** An idle fleet with every built-in on demand must not hold more than this (issue goal). */
const ON_DEMAND_RSS_GOAL_MB = 90;
/** How long after `start` the idle fleet's memory is read (as for the all-eager figure in `supervisor`). */
const IDLE_SETTLE_MS = 30_000;
const BUILTINS = ['memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite'];

interface ChildJson {
  name: string;
  state: string;
  pid: number | null;
}

/** The first tool call each built-in gets: something it must really answer. */
const FIRST_CALL: Record<string, { name: string; arguments: Record<string, unknown> }> = {
  memory: { name: 'read_graph', arguments: {} },
  thinking: {
    name: 'sequentialthinking',
    arguments: { thought: 'first', thoughtNumber: 1, totalThoughts: 1, nextThoughtNeeded: false },
  },
};

/**
 * Children on demand and reload: the first call to an IDLE built-in (connect, initialize and one tool call, the
 * child started by it), and the request errors seen by the children a reload keeps while it restarts another.
 */
export async function run(): Promise<BenchSection> {
  const load = loadavg()[0] ?? 0;
  const firstCallMs = await measureFirstCalls();
  const reload = await measureReload();
  const onDemandMb = await measureOnDemandRss();
  const rows = Object.entries(firstCallMs).map(
    ([name, samples]) =>
      `| first call to an IDLE \`${name}\` (connect + initialize + tool call), p50 | ${fmt(percentile(samples, 0.5))} ms | ${fmt(Math.max(...samples))} ms | ≤ ${FIRST_CALL_GOAL_MS} ms | ${percentile(samples, 0.5) <= FIRST_CALL_GOAL_MS ? 'yes' : 'no'} |`,
  );
  return {
    title: 'Service: children on demand, reload',
    command: 'npm run bench -- service',
    markdown: [
      `Load average when it began: ${fmt(load)} on ${cpus().length} cores (a child's start-up is CPU-bound: a busy machine slows it).`,
      `Real built-in children. First call: ${FIRST_CALLS} times each, the child back to IDLE (\`idleStopSeconds: 1\`) before each.`,
      `Reload: ${RELOADS} reloads that each restart \`thinking\` (its \`env\` changed) while ${CALLERS} SDK clients call \`memory\` (\`search_nodes\`, a new query each time, so the cache never answers).`,
      '',
      '| measure | median | max | goal | met |',
      '|---|---|---|---|---|',
      ...rows,
      `| \`omnimind reload\` restarting one child (CLI wall time) | ${fmt(percentile(reload.reloadMs, 0.5))} ms | ${fmt(Math.max(...reload.reloadMs))} ms | | |`,
      `| request errors on the kept child during the reloads | ${reload.errors} of ${reload.calls} | | 0 | ${reload.errors === 0 ? 'yes' : 'no'} |`,
      `| idle fleet RSS, all seven built-ins on demand, ${IDLE_SETTLE_MS / 1000} s after start (supervisor + children) | ${fmt(onDemandMb)} MB | | ≤ ${ON_DEMAND_RSS_GOAL_MB} MB | ${onDemandMb <= ON_DEMAND_RSS_GOAL_MB ? 'yes' : 'no'} |`,
    ].join('\n'),
  };
}

/** Resident memory of the whole fleet with every built-in on demand: the supervisor alone, its children IDLE. */
async function measureOnDemandRss(): Promise<number> {
  const lazy = Object.fromEntries(BUILTINS.map((name) => [name, { start: 'on-demand' }]));
  const h = createHarness({ children: lazy });
  try {
    await h.cli(['start']);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const report = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      supervisor: { rssBytes: number };
      children: Array<{ state: string; rssBytes: number | null }>;
    };
    if (report.children.some((child) => child.state !== 'IDLE')) throw new Error('a built-in left IDLE on its own');
    const bytes = report.children.reduce((sum, child) => sum + (child.rssBytes ?? 0), report.supervisor.rssBytes);
    return bytes / (1024 * 1024);
  } finally {
    await h.cleanup();
  }
}

async function measureFirstCalls(): Promise<Record<string, number[]>> {
  const lazy = { start: 'on-demand', idleStopSeconds: 1 };
  const h = createHarness({ children: { ...NO_BUILTINS, memory: lazy, thinking: lazy } });
  const samples: Record<string, number[]> = { memory: [], thinking: [] };
  try {
    const started = await h.cli(['start']);
    if (started.code !== 0) throw new Error(started.stderr);
    for (let i = 0; i < FIRST_CALLS; i++) {
      for (const name of Object.keys(samples)) {
        await waitFor(async () => childOf(await status(h), name)?.pid === null, 30_000);
        const t0 = performance.now();
        const client = await h.client(name);
        await client.callTool(FIRST_CALL[name]!);
        samples[name]!.push(performance.now() - t0);
        await client.close();
      }
    }
  } finally {
    await h.cleanup();
  }
  return samples;
}

async function measureReload(): Promise<{ reloadMs: number[]; errors: number; calls: number }> {
  const config = (round: number) => ({
    children: { ...NO_BUILTINS, memory: {}, thinking: { env: { OMNIMIND_BENCH_ROUND: String(round) } } },
  });
  const h = createHarness(config(0));
  const reloadMs: number[] = [];
  let errors = 0;
  let calls = 0;
  try {
    const started = await h.cli(['start']);
    if (started.code !== 0) throw new Error(started.stderr);
    const stop = { now: false };
    const clients: Client[] = [];
    for (let i = 0; i < CALLERS; i++) clients.push(await h.client('memory'));
    const loops = clients.map(async (client, c) => {
      for (let i = 0; !stop.now; i++) {
        try {
          const result = await client.callTool({ name: 'search_nodes', arguments: { query: `q${c}-${i}` } });
          if (result.isError) errors++;
        } catch {
          errors++;
        }
        calls++;
      }
    });
    for (let round = 1; round <= RELOADS; round++) {
      const before = childOf(await status(h), 'thinking')?.pid;
      h.writeConfig(config(round));
      const t0 = performance.now();
      const reloaded = await h.cli(['reload']);
      reloadMs.push(performance.now() - t0);
      if (reloaded.code !== 0) throw new Error(reloaded.stderr);
      await waitFor(async () => {
        const thinking = childOf(await status(h), 'thinking');
        return thinking?.state === 'RUNNING' && thinking.pid !== before;
      }, 30_000);
    }
    stop.now = true;
    await Promise.all(loops);
  } finally {
    await h.cleanup();
  }
  return { reloadMs, errors, calls };
}

async function status(h: ReturnType<typeof createHarness>): Promise<ChildJson[]> {
  return (JSON.parse((await h.cli(['status', '--json'])).stdout) as { children: ChildJson[] }).children;
}

function childOf(children: ChildJson[], name: string): ChildJson | undefined {
  return children.find((c) => c.name === name);
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

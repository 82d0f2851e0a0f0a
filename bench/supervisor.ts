import { join } from 'node:path';
import { callControl } from '../src/supervisor/index.js';
import { createHarness, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { fmt, percentile } from './driver.js';
import { rssMb } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** Repetitions of each timed step: enough for a median and a max. */
const RUNS = 10;
/** How long after the last request the idle RSS is read. */
const IDLE_WAIT_MS = 15_000;

/** Start-up, crash recovery, idle memory and status latency of the supervisor with seven fixture children. */
export async function run(): Promise<BenchSection> {
  const children = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`fx${i}`, fixture()]));
  const h = createHarness({ children: NO_BUILTINS, mcpServers: children });
  const control = join(h.runtimeDir, 'control.sock');
  const startMs: number[] = [];
  const recoverMs: number[] = [];
  const statusMs: number[] = [];
  let idleRss = 0;
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const started = await h.cli(['start']);
      startMs.push(performance.now() - t0);
      if (started.code !== 0) throw new Error(started.stderr);
      if (i < 2) await h.cli(['stop']);
    }
    for (let i = 0; i < RUNS; i++) {
      const name = `fx${i % 7}`;
      const before = (await callControl(control, 'status', { children: [name] })).children[0]!;
      const t0 = performance.now();
      process.kill(before.pid!, 'SIGKILL');
      for (;;) {
        const now = (await callControl(control, 'status', { children: [name] })).children[0]!;
        if (now.state === 'RUNNING' && now.pid !== before.pid) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      recoverMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
    const supervisorPid = (await callControl(control, 'status', {})).supervisor.pid;
    // Idle means after V8's memory reducer has run, which it does a few seconds after the last activity.
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    idleRss = rssMb(supervisorPid);
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await h.cli(['status']);
      statusMs.push(performance.now() - t0);
    }
  } finally {
    await h.cleanup();
  }
  const rows = [
    ['`omnimind start` → all 7 RUNNING (CLI wall time)', percentile(startMs, 0.5), Math.max(...startMs), '≤ 1000 ms'],
    ['child SIGKILL → RUNNING again', percentile(recoverMs, 0.5), Math.max(...recoverMs), '≤ 250 ms'],
    [
      '`omnimind status` round trip (incl. Node start-up)',
      percentile(statusMs, 0.5),
      Math.max(...statusMs),
      '≤ 150 ms',
    ],
  ] as const;
  const goals = [1000, 250, 150];
  return {
    title: 'Supervisor: start, recovery, memory, status',
    command: 'npm run bench -- supervisor',
    markdown: [
      'Seven fixture MCP children (Node processes on the MCP SDK).',
      '',
      '| measure | median | max | goal | met |',
      '|---|---|---|---|---|',
      ...rows.map(
        ([label, med, max, goal], i) =>
          `| ${label} | ${fmt(med)} ms | ${fmt(max)} ms | ${goal} | ${med <= (goals[i] ?? 0) ? 'yes' : 'no'} |`,
      ),
      `| idle supervisor RSS (${IDLE_WAIT_MS / 1000} s after the last request) | ${fmt(idleRss)} MB | | ≤ 80 MB | ${idleRss <= 80 ? 'yes' : 'no'} |`,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

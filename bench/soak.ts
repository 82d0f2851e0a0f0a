import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { callControl } from '../src/supervisor/index.js';
import { type Harness, isRunning } from '../test/helpers/harness.js';
import { recordSections } from './record.js';
import type { BenchSection } from './types.js';
import { CLIENTS, type MixedLoad, type Op, startMixedLoad } from './workload.js';

/** The long fault tests of `npm run soak` (not run in CI). OMNIMIND_SOAK_QUICK=1 shortens every phase tenfold. */
const QUICK = process.env.OMNIMIND_SOAK_QUICK === '1';
const KILL_PHASE_SECONDS = QUICK ? 10 : 60;
const KILL_EVERY_MS = 2_000;
const DISK_FULL_SECONDS = QUICK ? 5 : 30;
const CYCLES = QUICK ? 10 : 100;
/** A request unanswered for this long counts as a hang. */
const HANG_MS = 30_000;

type TextResult = { content?: Array<{ text?: string }>; isError?: boolean };

function countInLogs(h: Harness, needle: string): number {
  const dir = join(h.home, 'logs');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split(needle).length - 1, 0);
}

/** A digest of what the cycles wrote: their memory entities (the load writes others) and the ledger table. */
async function checksum(memory: Client, sqlite: Client, cycles: number): Promise<string> {
  const names = Array.from({ length: cycles }, (_, cycle) => `cycle${cycle}`);
  const graph = (await memory.callTool({ name: 'open_nodes', arguments: { names } })) as TextResult;
  const rows = (await sqlite.callTool({
    name: 'read_query',
    arguments: { query: 'SELECT * FROM ledger ORDER BY id' },
  })) as TextResult;
  return createHash('sha256')
    .update(graph.content?.[0]?.text ?? '')
    .update(rows.content?.[0]?.text ?? '')
    .digest('hex')
    .slice(0, 16);
}

/** Outcomes of the mixed load, read-only calls and writes apart (a write cut off by a crash may fail; a read may not). */
class Outcomes {
  readsOk = 0;
  readsLost = 0;
  writesOk = 0;
  writesFailed = 0;
  hangs = 0;
  readonly errors = new Map<string, number>();

  record(op: Op, ms: number, error?: Error): void {
    if (ms > HANG_MS) this.hangs++;
    if (!error) {
      if (op.readOnly) this.readsOk++;
      else this.writesOk++;
      return;
    }
    if (op.readOnly) this.readsLost++;
    else this.writesFailed++;
    const key = `${op.readOnly ? 'read' : 'write'}: ${error.message.slice(0, 80)}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /** The most frequent errors as table rows under the fault's row. */
  errorRows(): string[] {
    return [...this.errors]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 3)
      .map(([k, n]) => `| ↳ ${n}× | ${k.replace(/\|/g, '/')} | | |`);
  }
}

/**
 * The load bench's mix (64 SDK clients, 70 % reads / 30 % writes, all seven children) with a random child SIGKILLed
 * every 2 s. Cache TTL 0, so every read reaches a child and must ride out its restart.
 */
async function killChildrenUnderLoad(): Promise<string[]> {
  const load = await startMixedLoad({ cache: { ttlSeconds: 0 } });
  const outcomes = new Outcomes();
  let stop = false;
  let kills = 0;
  try {
    const control = join(load.h.runtimeDir, 'control.sock');
    const driving = load.drive(
      () => stop,
      (op, ms, error) => outcomes.record(op, ms, error),
    );
    const deadline = Date.now() + KILL_PHASE_SECONDS * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
      const status = await callControl(control, 'status', {});
      const victims = status.children.filter((c) => c.pid !== null);
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim?.pid) {
        process.kill(victim.pid, 'SIGKILL');
        kills++;
      }
    }
    stop = true;
    await driving;
    const addrInUse = countInLogs(load.h, 'EADDRINUSE');
    const o = outcomes;
    const met = o.readsLost === 0 && o.hangs === 0 && addrInUse === 0;
    return [
      `| random child SIGKILL every 2 s for ${KILL_PHASE_SECONDS} s under the load mix (${CLIENTS} clients) | ${kills} kills; ${o.readsOk} read-only calls answered, ${o.readsLost} lost; ${o.hangs} hangs; ${addrInUse} EADDRINUSE; writes: ${o.writesOk} done, ${o.writesFailed} refused as cut off by the crash | 0 lost, 0 hangs, 0 EADDRINUSE | ${met ? 'yes' : 'no'} |`,
      ...o.errorRows(),
    ];
  } finally {
    stop = true;
    await load.close();
  }
}

/** The load mix with every log file (children's and the supervisor's) on a full disk: service goes on. */
async function logDiskFull(): Promise<string[]> {
  const names = ['supervisor', 'memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite'];
  const load = await startMixedLoad({}, (h) => {
    mkdirSync(join(h.home, 'logs'), { recursive: true });
    for (const name of names) symlinkSync('/dev/full', join(h.home, 'logs', `${name}.log`));
  });
  const outcomes = new Outcomes();
  let stop = false;
  try {
    const driving = load.drive(
      () => stop,
      (op, ms, error) => outcomes.record(op, ms, error),
    );
    await new Promise((r) => setTimeout(r, DISK_FULL_SECONDS * 1000));
    stop = true;
    await driving;
    const status = await callControl(join(load.h.runtimeDir, 'control.sock'), 'status', {});
    const running = status.children.filter((c) => c.state === 'RUNNING').length;
    const reported = status.children.filter((c) => c.logError).length;
    const o = outcomes;
    const failed = o.readsLost + o.writesFailed;
    const met = failed === 0 && o.hangs === 0 && running === status.children.length;
    return [
      `| every log on a full disk (/dev/full) for ${DISK_FULL_SECONDS} s under the load mix | ${o.readsOk + o.writesOk} calls answered, ${failed} failed, ${o.hangs} hangs; ${running}/${status.children.length} children RUNNING, ${reported} reporting the log error in status | service continues: 0 failed, all RUNNING | ${met ? 'yes' : 'no'} |`,
      ...o.errorRows(),
    ];
  } finally {
    stop = true;
    await load.close();
  }
}

/** Runs `phase` on a started omnimind while the load mix drives it; returns how many calls were answered meanwhile. */
async function underLoad(phase: (load: MixedLoad) => Promise<void>): Promise<number> {
  const load = await startMixedLoad();
  let stop = false;
  let answered = 0;
  const driving = load.drive(
    () => stop,
    (_op, _ms, error) => {
      if (!error) answered++;
    },
  );
  try {
    await phase(load);
    return answered;
  } finally {
    stop = true;
    await driving;
    await load.close();
  }
}

/** Supervisor SIGKILL + start cycles under the load mix: no orphans, no stale-socket failure, data intact. */
async function killSupervisorCycles(): Promise<string[]> {
  let orphans = 0;
  let startFailures = 0;
  let corrupt = 0;
  const answered = await underLoad(async ({ h }) => {
    const sqlite = await h.client('sqlite');
    await sqlite.callTool({
      name: 'create_table',
      arguments: { query: 'CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)' },
    });
    const control = join(h.runtimeDir, 'control.sock');
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const memory = await h.client('memory');
      const db = await h.client('sqlite');
      await memory.callTool({
        name: 'create_entities',
        arguments: {
          entities: [{ name: `cycle${cycle}`, entityType: 'cycle', observations: [`written in cycle ${cycle}`] }],
        },
      });
      await db.callTool({
        name: 'write_query',
        arguments: { query: `INSERT INTO ledger (note) VALUES ('cycle ${cycle}')` },
      });
      const before = await checksum(memory, db, cycle + 1);
      const status = await callControl(control, 'status', {});
      const pids = status.children.map((c) => c.pid).filter((p): p is number => p !== null);
      process.kill(status.supervisor.pid, 'SIGKILL');
      while (isRunning(status.supervisor.pid)) await new Promise((r) => setTimeout(r, 10));
      const restarted = await h.cli(['start'], { timeoutMs: 120_000 });
      if (restarted.code !== 0) startFailures++;
      orphans += pids.filter(isRunning).length;
      const after = await checksum(await h.client('memory'), await h.client('sqlite'), cycle + 1);
      if (after !== before) corrupt++;
    }
  });
  return [
    `| ${CYCLES} supervisor SIGKILL + start cycles under the load mix (${answered} calls answered meanwhile) | ${orphans} orphans, ${startFailures} failed starts, ${corrupt} checksum mismatches (the cycles' memory entities + sqlite rows) | 0, 0, 0 | ${orphans + startFailures + corrupt === 0 ? 'yes' : 'no'} |`,
  ];
}

/** Two `omnimind start` racing, many times, under the load mix: exactly one supervisor each time. */
async function racingStarts(): Promise<string[]> {
  let wrong = 0;
  let failed = 0;
  const answered = await underLoad(async ({ h }) => {
    for (let i = 0; i < CYCLES; i++) {
      await h.cli(['stop']);
      const before = countInLogs(h, ' started (pid');
      const results = await Promise.all([h.cli(['start']), h.cli(['start'])]);
      if (results.some((r) => r.code !== 0)) failed++;
      if (countInLogs(h, ' started (pid') - before !== 1) wrong++;
    }
  });
  return [
    `| ${CYCLES} racing double starts under the load mix (${answered} calls answered meanwhile) | ${wrong} cycles without exactly one supervisor, ${failed} with a failed start | 0, 0 | ${wrong + failed === 0 ? 'yes' : 'no'} |`,
  ];
}

/** The phases to run: all by default, or those named in OMNIMIND_SOAK_PHASES (kills,diskfull,cycles,races). */
const ALL_PHASES = ['kills', 'diskfull', 'cycles', 'races'];
const PHASES = new Set(process.env.OMNIMIND_SOAK_PHASES?.split(',') ?? ALL_PHASES);

/** Runs the chosen fault phases and reports them as one table. */
export async function run(): Promise<BenchSection> {
  const rows = [
    ...(PHASES.has('kills') ? await killChildrenUnderLoad() : []),
    ...(PHASES.has('diskfull') ? await logDiskFull() : []),
    ...(PHASES.has('cycles') ? await killSupervisorCycles() : []),
    ...(PHASES.has('races') ? await racingStarts() : []),
  ];
  return {
    title: 'Faults under load (soak)',
    command: 'npm run soak',
    markdown: [
      `Every phase runs under the load bench's mix (${CLIENTS} MCP SDK clients over all seven built-in children, 70 % reads /`,
      `30 % writes, the default limiter config); clients reconnect when the supervisor is killed or stopped. The kill`,
      'phase sets the cache TTL to 0 so that every read reaches a child and must ride out its restart. A write cut off by a',
      'crash gets -32012 (not retried: it may not be safe to repeat).',
      '',
      '| fault | result | goal | met |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const section = await run();
  // Only a complete run is recorded: a quick or partial one is for trying things out.
  if (!QUICK && PHASES.size === ALL_PHASES.length) recordSections([section], 'npm run soak', true);
  process.stdout.write(`${section.markdown}\n`);
}

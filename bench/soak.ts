import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { callControl } from '../src/supervisor/index.js';
import { createHarness, type Harness, isRunning } from '../test/helpers/harness.js';
import type { BenchSection } from './types.js';

/** The long fault tests of `npm run soak` (not run in CI). OMNIMIND_SOAK_QUICK=1 shortens every phase tenfold. */
const QUICK = process.env.OMNIMIND_SOAK_QUICK === '1';
const KILL_PHASE_SECONDS = QUICK ? 10 : 60;
const KILL_EVERY_MS = 2_000;
const CYCLES = QUICK ? 10 : 100;
const READERS = 16;
/** A request unanswered for this long counts as a hang. */
const HANG_MS = 30_000;

type TextResult = { content?: Array<{ text?: string }>; isError?: boolean };

function countInLogs(h: Harness, needle: string): number {
  const dir = join(h.home, 'logs');
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split(needle).length - 1, 0);
}

async function checksum(memory: Client, sqlite: Client): Promise<string> {
  const graph = (await memory.callTool({ name: 'read_graph', arguments: {} })) as TextResult;
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

/** A random child SIGKILLed every 2 s under read-only load: nothing lost, nothing hangs, no EADDRINUSE. */
async function killChildrenUnderLoad(): Promise<string[]> {
  const h = createHarness({ cache: { ttlSeconds: 0 }, limiter: { maxQueue: 1000 } });
  try {
    if ((await h.cli(['start'], { timeoutMs: 120_000 })).code !== 0) throw new Error('start failed');
    const reads: Array<[string, string, Record<string, unknown>]> = [
      ['memory', 'read_graph', {}],
      ['context', 'list_contexts', {}],
      ['thinking', 'list_sessions', {}],
      ['filesystem', 'list_allowed_directories', {}],
      ['sqlite', 'list_tables', {}],
      ['git', 'git_status', { repo_path: h.dir }],
      ['python', 'python_info', {}],
    ];
    const clients = await Promise.all(Array.from({ length: READERS }, (_, i) => h.client(reads[i % reads.length]![0])));
    let stop = false;
    let ok = 0;
    let lost = 0;
    let hangs = 0;
    const errors = new Map<string, number>();
    const control = join(h.runtimeDir, 'control.sock');
    let kills = 0;
    const readers = clients.map(async (client, i) => {
      const [, tool, args] = reads[i % reads.length]!;
      while (!stop) {
        const t0 = Date.now();
        try {
          const result = (await client.callTool({ name: tool, arguments: args }, undefined, {
            timeout: HANG_MS * 2,
          })) as TextResult;
          if (result.isError && tool !== 'git_status') throw new Error(result.content?.[0]?.text ?? 'tool error');
          ok++;
        } catch (error) {
          lost++;
          const key = (error as Error).message.slice(0, 80);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
        if (Date.now() - t0 > HANG_MS) hangs++;
      }
    });
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
    await Promise.all(readers);
    const addrInUse = countInLogs(h, 'EADDRINUSE');
    return [
      `| random child SIGKILL every 2 s for ${KILL_PHASE_SECONDS} s under ${READERS} readers | ${kills} kills, ${ok} read-only requests answered, ${lost} lost, ${hangs} hangs, ${addrInUse} EADDRINUSE | 0 lost, 0 hangs, 0 EADDRINUSE | ${lost === 0 && hangs === 0 && addrInUse === 0 ? 'yes' : 'no'} |`,
      ...[...errors].slice(0, 3).map(([k, n]) => `| ↳ ${n}× | ${k.replace(/\|/g, '/')} | | |`),
    ];
  } finally {
    await h.cleanup();
  }
}

/** Supervisor SIGKILL + start cycles: no orphans, no stale-socket failure, data intact. */
async function killSupervisorCycles(): Promise<string[]> {
  const h = createHarness({});
  let orphans = 0;
  let startFailures = 0;
  let corrupt = 0;
  try {
    if ((await h.cli(['start'], { timeoutMs: 120_000 })).code !== 0) throw new Error('start failed');
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
      const before = await checksum(memory, db);
      const status = await callControl(control, 'status', {});
      const pids = status.children.map((c) => c.pid).filter((p): p is number => p !== null);
      process.kill(status.supervisor.pid, 'SIGKILL');
      while (isRunning(status.supervisor.pid)) await new Promise((r) => setTimeout(r, 10));
      const restarted = await h.cli(['start'], { timeoutMs: 120_000 });
      if (restarted.code !== 0) startFailures++;
      orphans += pids.filter(isRunning).length;
      const after = await checksum(await h.client('memory'), await h.client('sqlite'));
      if (after !== before) corrupt++;
    }
  } finally {
    await h.cleanup();
  }
  return [
    `| ${CYCLES} supervisor SIGKILL + start cycles (all seven children) | ${orphans} orphans, ${startFailures} failed starts, ${corrupt} checksum mismatches (memory graph + sqlite rows) | 0, 0, 0 | ${orphans + startFailures + corrupt === 0 ? 'yes' : 'no'} |`,
  ];
}

/** Two `omnimind start` racing, many times: exactly one supervisor each time. */
async function racingStarts(): Promise<string[]> {
  const h = createHarness({ children: { python: { enabled: false }, git: { enabled: false } } });
  let wrong = 0;
  let failed = 0;
  try {
    for (let i = 0; i < CYCLES; i++) {
      const before = countInLogs(h, ' started (pid');
      const results = await Promise.all([h.cli(['start']), h.cli(['start'])]);
      if (results.some((r) => r.code !== 0)) failed++;
      if (countInLogs(h, ' started (pid') - before !== 1) wrong++;
      await h.cli(['stop']);
    }
  } finally {
    await h.cleanup();
  }
  return [
    `| ${CYCLES} racing double starts | ${wrong} cycles without exactly one supervisor, ${failed} with a failed start | 0, 0 | ${wrong + failed === 0 ? 'yes' : 'no'} |`,
  ];
}

/** The phases to run: all by default, or those named in OMNIMIND_SOAK_PHASES (kills,cycles,races). */
const PHASES = new Set((process.env.OMNIMIND_SOAK_PHASES ?? 'kills,cycles,races').split(','));

/** Runs the chosen fault phases and reports them as one table. */
export async function run(): Promise<BenchSection> {
  const rows = [
    ...(PHASES.has('kills') ? await killChildrenUnderLoad() : []),
    ...(PHASES.has('cycles') ? await killSupervisorCycles() : []),
    ...(PHASES.has('races') ? await racingStarts() : []),
  ];
  return {
    title: 'Faults under load (soak)',
    command: 'npm run soak',
    markdown: ['| fault | result | goal | met |', '|---|---|---|---|', ...rows].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  BUILTIN_CHILDREN,
  BUILTIN_NODE_FLAGS,
  type BuiltinChildName,
  resolveChildSpecs,
  resolvePaths,
} from '../src/config/index.js';
import { callControl, readGroupUsage } from '../src/supervisor/index.js';
import { CLI, ROOT } from '../test/helpers/harness.js';
import { fmt, percentile } from './driver.js';
import { groupPssMb, groupSize, rssMb } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** `omnimind start` runs timed (each followed by a stop but the last): enough for a median. */
const START_RUNS = 5;
/** How long after start the idle fleet's memory is read: V8's memory reducer has run by then. */
const IDLE_WAIT_MS = 30_000;
/** SIGKILL rounds: each kills every child once, one at a time. */
const KILL_ROUNDS = 3;
/** A child must have run this long before it is killed, so that every kill meets the first backoff step (100 ms). */
const STABLE_MS = 31_000;
/** How often recovery is polled: each status call costs the supervisor a pass over /proc. */
const RECOVERY_POLL_MS = 10;
/** `omnimind status` round trips timed. */
const STATUS_RUNS = 10;

const MB = 1024 * 1024;
const execFileAsync = promisify(execFile);

/** What one build's fleet measured. */
interface FleetFigures {
  startMs: number[];
  statusMs: number[];
  supervisor: { rssMb: number; pssMb: number; startCpuS: number };
  /** VmRSS summed over 8 idle bare Node processes, measured beside the fleet. */
  bareRssMb: number;
  children: Map<string, { rssMb: number; pssMb: number; processes: number; recoverMs: number[]; startCpuS: number }>;
}

/** A scratch installation as a new user has it: no config file, run from a fresh git repository. */
function newUser(): { dir: string; cwd: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'om-bench-'));
  const cwd = join(dir, 'project');
  mkdirSync(cwd);
  mkdirSync(join(dir, 'home'));
  execFileSync('git', ['init', '-q', cwd]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    OMNIMIND_HOME: join(dir, 'state'),
    OMNIMIND_RUNTIME_DIR: join(dir, 'run'),
    OMNIMIND_CONFIG: join(dir, 'no-config.json'),
    NO_COLOR: '1',
  };
  return { dir, cwd, env };
}

/** Start time, idle memory and SIGKILL recovery of the seven built-ins under the CLI at `cli`. */
async function measureFleet(cli: string): Promise<FleetFigures> {
  const { dir, cwd, env } = newUser();
  const omnimind = (args: string[]) => execFileAsync(process.execPath, [cli, ...args], { env, cwd, timeout: 120_000 });
  const control = join(env.OMNIMIND_RUNTIME_DIR!, 'control.sock');
  const figures: FleetFigures = {
    startMs: [],
    statusMs: [],
    supervisor: { rssMb: 0, pssMb: 0, startCpuS: 0 },
    bareRssMb: 0,
    children: new Map(),
  };
  // CPU seconds each process used to get to RUNNING, read as the last start returns: unlike wall time, it does not
  // depend on what else the machine is doing.
  const startCpu = new Map<string, number>();
  try {
    for (let i = 0; i < START_RUNS; i++) {
      const t0 = performance.now();
      await omnimind(['start']);
      figures.startMs.push(performance.now() - t0);
      if (i < START_RUNS - 1) await omnimind(['stop']);
    }
    const started = await callControl(control, 'status', {});
    const cpu = readGroupUsage([started.supervisor.pid, ...started.children.map((c) => c.pid!)]);
    startCpu.set('', cpu.get(started.supervisor.pid)?.cpuSeconds ?? Number.NaN);
    for (const c of started.children) startCpu.set(c.name, cpu.get(c.pid!)?.cpuSeconds ?? Number.NaN);
    figures.bareRssMb = await bareNodeRssMb(8);
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    const status = await callControl(control, 'status', {});
    const supervisorPid = status.supervisor.pid;
    const usage = readGroupUsage([supervisorPid, ...status.children.map((c) => c.pid!)]);
    figures.supervisor = {
      rssMb: (usage.get(supervisorPid)?.rssBytes ?? 0) / MB,
      pssMb: groupPssMb(supervisorPid),
      startCpuS: startCpu.get('') ?? Number.NaN,
    };
    for (const child of status.children) {
      figures.children.set(child.name, {
        rssMb: (usage.get(child.pid!)?.rssBytes ?? 0) / MB,
        pssMb: groupPssMb(child.pid!),
        processes: groupSize(child.pid!),
        recoverMs: [],
        startCpuS: startCpu.get(child.name) ?? Number.NaN,
      });
    }
    for (let i = 0; i < STATUS_RUNS; i++) {
      const t0 = performance.now();
      await omnimind(['status']);
      figures.statusMs.push(performance.now() - t0);
    }
    const lastRestart = new Map<string, number>();
    for (let round = 0; round < KILL_ROUNDS; round++) {
      for (const name of figures.children.keys()) {
        const wait = (lastRestart.get(name) ?? 0) + STABLE_MS - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const before = (await callControl(control, 'status', { children: [name] })).children[0]!;
        const t0 = performance.now();
        process.kill(before.pid!, 'SIGKILL');
        // Polled every 10 ms: a status call reads /proc, and polling harder takes CPU from the child being restarted.
        for (;;) {
          const now = (await callControl(control, 'status', { children: [name] })).children[0]!;
          if (now.state === 'RUNNING' && now.pid !== before.pid) break;
          await new Promise((r) => setTimeout(r, RECOVERY_POLL_MS));
        }
        const t1 = performance.now();
        figures.children.get(name)!.recoverMs.push(t1 - t0);
        lastRestart.set(name, t1);
      }
    }
  } finally {
    await omnimind(['stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** VmRSS summed over `count` bare Node processes that only wait on a timer, read once they are up. */
async function bareNodeRssMb(count: number): Promise<number> {
  const processes = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000); process.send?.(0)'], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    }),
  );
  try {
    await Promise.all(processes.map((p) => once(p, 'message')));
    await new Promise((r) => setTimeout(r, 2_000));
    return sum(processes.map((p) => rssMb(p.pid!)));
  } finally {
    for (const p of processes) p.kill('SIGKILL');
  }
}

/** The representative call of each built-in, repeated to time it (after one warm-up round). */
const CALLS: Record<BuiltinChildName, { name: string; arguments: Record<string, unknown>; times: number }> = {
  memory: { name: 'search_nodes', arguments: { query: 'topic1' }, times: 200 },
  context: { name: 'compress_text', arguments: { text: '', target_tokens: 400 }, times: 30 },
  thinking: {
    name: 'sequentialthinking',
    arguments: { thought: 'step', thoughtNumber: 1, totalThoughts: 3, nextThoughtNeeded: true },
    times: 200,
  },
  python: { name: 'run_python', arguments: { code: 'print(6 * 7)' }, times: 20 },
  filesystem: { name: 'directory_tree', arguments: { path: '' }, times: 30 },
  git: { name: 'git_status', arguments: { repo_path: '' }, times: 50 },
  sqlite: { name: 'read_query', arguments: { query: 'SELECT 1 AS one' }, times: 100 },
};

/** A log-like text for compress_text: 30 KB of lines with numbers, paths and an error among them. */
function sampleLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    lines.push(
      i % 50 === 7
        ? `ERROR src/module${i}.ts:${i}: TypeError: cannot read property 'x' of undefined`
        : `INFO request ${i} served in ${(i * 7) % 97} ms from cache node-${i % 5}`,
    );
  }
  return lines.join('\n');
}

/** One built-in started alone by its spec, with the given node flags, behind an SDK client. */
async function startAlone(
  name: BuiltinChildName,
  flags: readonly string[],
  dir: string,
): Promise<{ client: Client; pid: number; cwd: string }> {
  const home = join(dir, `${name}-${flags.length}`);
  const project = join(home, 'project');
  mkdirSync(project, { recursive: true });
  execFileSync('git', ['init', '-q', project]);
  const paths = resolvePaths({ OMNIMIND_HOME: home, OMNIMIND_RUNTIME_DIR: join(home, 'run') });
  const children = Object.fromEntries(BUILTIN_CHILDREN.map((n) => [n, n === name ? {} : { enabled: false }]));
  const overrides = name === 'filesystem' ? { filesystem: { roots: [join(ROOT, 'src')] } } : {};
  const spec = resolveChildSpecs({ children: { ...children, ...overrides } }, paths, project).find(
    (s) => s.name === name,
  )!;
  const entry = spec.args.at(-1)!;
  const transport = new StdioClientTransport({
    command: spec.command,
    args: [...flags, entry],
    env: { ...(process.env as Record<string, string>), ...spec.env },
    cwd: spec.cwd,
    stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid!, cwd: spec.cwd };
}

/** Idle memory and the p50 of a representative call of each built-in, with no flags and with its chosen flags. */
async function measureFlags(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'om-bench-flags-'));
  const rows: string[] = [];
  try {
    const variants = BUILTIN_CHILDREN.flatMap((name) =>
      BUILTIN_NODE_FLAGS[name].length > 0
        ? [
            { name, flags: [] },
            { name, flags: BUILTIN_NODE_FLAGS[name] },
          ]
        : [],
    );
    const jit = BUILTIN_CHILDREN.filter((name) => BUILTIN_NODE_FLAGS[name].length === 0).map((name) => ({
      name,
      flags: ['--lite-mode', '--no-expose-wasm'],
    }));
    const all = [...variants, ...jit.flatMap((v) => [{ name: v.name, flags: [] }, v])];
    const started = await Promise.all(all.map((v) => startAlone(v.name, v.flags, dir)));
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    // The SDK's stdio transport does not detach the child: read each process alone (no child here starts workers idle).
    const figures = all.map((v, i) => ({ ...v, rssMb: rssMb(started[i]!.pid), times: [] as number[], p50: 0 }));
    const text = sampleLog();
    const argsOf = (i: number): Record<string, unknown> => {
      const { name } = figures[i]!;
      const args = { ...CALLS[name].arguments };
      if (name === 'context') args.text = text;
      if (name === 'filesystem') args.path = join(ROOT, 'src', 'children');
      if (name === 'git') args.repo_path = started[i]!.cwd;
      return args;
    };
    // Each pair (no flags, flags) is timed call by call in turn, so that drift and warm caches favour neither.
    for (let i = 0; i < figures.length; i += 2) {
      const pair = [i, i + 1];
      const { name } = figures[i]!;
      if (name === 'memory') {
        for (const j of pair) {
          await started[j]!.client.callTool({
            name: 'create_entities',
            arguments: {
              entities: Array.from({ length: 300 }, (_, k) => ({
                name: `entity${k}`,
                entityType: 'topic',
                observations: [`about topic${k % 10}`, `seen ${k} times`],
              })),
            },
          });
        }
      }
      for (let k = 0; k < CALLS[name].times + 5; k++) {
        for (const j of pair) {
          const t0 = performance.now();
          const result = await started[j]!.client.callTool({ name: CALLS[name].name, arguments: argsOf(j) });
          if (result.isError) throw new Error(`${name} ${CALLS[name].name}: ${JSON.stringify(result.content)}`);
          if (k >= 5) figures[j]!.times.push(performance.now() - t0);
        }
      }
      for (const j of pair) figures[j]!.p50 = percentile(figures[j]!.times, 0.5);
    }
    await Promise.all(started.map((s) => s.client.close().catch(() => {})));
    for (let i = 0; i < figures.length; i += 2) {
      const [plain, flagged] = [figures[i]!, figures[i + 1]!];
      const chosen = BUILTIN_NODE_FLAGS[plain.name].length > 0 ? 'yes' : 'no (JIT kept)';
      rows.push(
        `| ${plain.name} | \`${CALLS[plain.name].name}\` | ${fmt(plain.rssMb)} MB | ${fmt(flagged.rssMb)} MB | ` +
          `${fmt(plain.p50, 2)} ms | ${fmt(flagged.p50, 2)} ms | ${chosen} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The fleet tables of one build (and a baseline's beside it, when measured). */
function fleetTable(now: FleetFigures, before: FleetFigures | undefined): string[] {
  const col = (f: (x: FleetFigures) => string) => (before ? `${f(before)} | ${f(now)}` : f(now));
  const head = before ? '| measure | baseline | this build | goal |' : '| measure | this build | goal |';
  const rule = before ? '|---|---|---|---|' : '|---|---|---|';
  const rss = (x: FleetFigures) => x.supervisor.rssMb + sum([...x.children.values()].map((c) => c.rssMb));
  const pss = (x: FleetFigures) => x.supervisor.pssMb + sum([...x.children.values()].map((c) => c.pssMb));
  const recoverAll = (x: FleetFigures) => [...x.children.values()].flatMap((c) => c.recoverMs);
  const lines = [
    head,
    rule,
    `| first \`omnimind start\` in a fresh home (children compile without a code cache) | ${col((x) => `${fmt(x.startMs[0]!, 0)} ms`)} | |`,
    `| \`omnimind start\` → all 7 RUNNING, p50 of the next ${START_RUNS - 1} (max) | ${col((x) => `${fmt(percentile(x.startMs.slice(1), 0.5), 0)} ms (${fmt(Math.max(...x.startMs.slice(1)), 0)})`)} | ≤ 1000 ms |`,
    `| CPU used to start (supervisor + 7 children, as the last start returned) | ${col((x) => `${fmt(x.supervisor.startCpuS + sum([...x.children.values()].map((c) => c.startCpuS)), 2)} s`)} | |`,
    `| idle fleet RSS, ${IDLE_WAIT_MS / 1000} s after start (sum of VmRSS, supervisor + 7 groups) | ${col((x) => `${fmt(rss(x), 0)} MB`)} | ≤ 350 MB |`,
    `| idle fleet PSS (shared pages counted once) | ${col((x) => `${fmt(pss(x), 0)} MB`)} | |`,
    `| floor: RSS of 8 bare Node processes (\`node -e\` with a timer), what any 8-process fleet starts from | ${col((x) => `${fmt(x.bareRssMb, 0)} MB`)} | |`,
    `| child SIGKILL → RUNNING, p50 over all children (max) | ${col((x) => `${fmt(percentile(recoverAll(x), 0.5), 0)} ms (${fmt(Math.max(...recoverAll(x)), 0)})`)} | ≤ 250 ms |`,
    `| \`omnimind status\` round trip, p50 (incl. Node start-up) | ${col((x) => `${fmt(percentile(x.statusMs, 0.5), 0)} ms`)} | ≤ 150 ms |`,
    '',
    before
      ? '| process | idle RSS, baseline / this | PSS this build | processes (baseline / this) | start CPU, baseline / this | SIGKILL → RUNNING p50, baseline / this |'
      : '| process | idle RSS | PSS | processes | start CPU | SIGKILL → RUNNING p50 |',
    before ? '|---|---|---|---|---|---|' : '|---|---|---|---|---|---|',
    before
      ? `| supervisor | ${fmt(before.supervisor.rssMb)} / ${fmt(now.supervisor.rssMb)} MB | ${fmt(now.supervisor.pssMb)} MB | 1 / 1 | ${fmt(before.supervisor.startCpuS, 2)} / ${fmt(now.supervisor.startCpuS, 2)} s | |`
      : `| supervisor | ${fmt(now.supervisor.rssMb)} MB | ${fmt(now.supervisor.pssMb)} MB | 1 | ${fmt(now.supervisor.startCpuS, 2)} s | |`,
  ];
  for (const [name, c] of now.children) {
    const b = before?.children.get(name);
    lines.push(
      before
        ? `| ${name} | ${fmt(b?.rssMb ?? Number.NaN)} / ${fmt(c.rssMb)} MB | ${fmt(c.pssMb)} MB | ${b?.processes ?? '–'} / ${c.processes} | ${fmt(b?.startCpuS ?? Number.NaN, 2)} / ${fmt(c.startCpuS, 2)} s | ${fmt(percentile(b?.recoverMs ?? [], 0.5), 0)} / ${fmt(percentile(c.recoverMs, 0.5), 0)} ms |`
        : `| ${name} | ${fmt(c.rssMb)} MB | ${fmt(c.pssMb)} MB | ${c.processes} | ${fmt(c.startCpuS, 2)} s | ${fmt(percentile(c.recoverMs, 0.5), 0)} ms |`,
    );
  }
  return lines;
}

/**
 * Start-up, idle memory and crash recovery of the seven real built-in children as a new user runs them (no config),
 * against a baseline build when `OMNIMIND_BASELINE` names one; then each built-in's V8 flags, measured alone.
 */
export async function run(): Promise<BenchSection> {
  const baselineDir = process.env.OMNIMIND_BASELINE;
  const before = baselineDir ? await measureFleet(join(baselineDir, 'bin', 'omnimind.js')) : undefined;
  const now = await measureFleet(CLI);
  const flags = await measureFlags();
  return {
    title: 'Supervisor: start, recovery, memory, status',
    command: baselineDir
      ? 'OMNIMIND_BASELINE=<a built checkout of the version to compare with> npm run bench -- supervisor'
      : 'npm run bench -- supervisor',
    markdown: [
      'The seven real built-in children, as a new user runs them: no config file, `omnimind start` in a fresh git',
      `repository. RSS is VmRSS summed over each child's process group; every Node process also maps about 35 MB of`,
      'the node binary that all of them share, which PSS counts once. Recovery: each child killed once per round,',
      `${KILL_ROUNDS} rounds, each kill after ${STABLE_MS / 1000} s of running (so every restart waits the first backoff step, 100 ms).`,
      baselineDir ? `Baseline: ${baselineDir} (\`OMNIMIND_BASELINE\`).` : '',
      '',
      ...fleetTable(now, before),
      '',
      `V8 flags per built-in (\`BUILTIN_NODE_FLAGS\` in src/config/children.ts): each child alone, idle RSS ${IDLE_WAIT_MS / 1000} s`,
      'after its handshake, and the p50 of its representative call, without and with `--lite-mode --no-expose-wasm`.',
      '',
      '| child | call | idle RSS, no flags | idle RSS, lite | call p50, no flags | call p50, lite | lite chosen |',
      '|---|---|---|---|---|---|---|',
      ...flags,
      '',
      'Where the time and memory went, and what changed:',
      '- Module loading. Each child loaded 190 to 340 ES module files at start (zod 116, the MCP SDK 16, zod-to-json-schema',
      "  39, ajv about 100 CommonJS files; git also execa's 106); Node 20's ESM loader spent most of a child's 0.22 s of",
      '  start CPU on them. The build bundles each child into one minified CommonJS file: 0.13 s, and about 5 MB less',
      "  resident. A child then compiles that file from V8's code cache ($OMNIMIND_HOME/code-cache, written after its",
      '  first start): 0.10 to 0.12 s (the first start in a fresh home compiles and is not faster; its row is apart).',
      '  (The context child already read its tokenizer table only on first use.)',
      '- The supervisor loads the HTTP front, the OpenTelemetry SDK and ioredis only when the config uses them.',
      '- sqlite started its two query processes with the child (three processes, 157 to 167 MB idle); they now start',
      '  with the first query and end after 30 s without one.',
      '- python probed its sandbox (several Python starts: on this machine `python3` is a pyenv interpreter that the run',
      '  uid cannot read, so a second candidate is probed too) before loading its modules; the probe now overlaps the',
      '  module loading, and a restart reuses the last working answer (kept until reboot).',
      '- `omnimind start` and the supervisor loaded execa (106 files) only to spawn the daemon; node:child_process now.',
      '- V8 flags tried on one child (memory, unbundled, RSS 25 s after start): `--max-semi-space-size=1` gave 6 MB less',
      "  right after start but nothing once idle (V8's memory reducer shrinks the young generation anyway);",
      '  `--optimize-for-size` cost 0.1 s more CPU to start for no idle gain; `--jitless` and `--lite-mode` both gave',
      '  about 6 MB. Neither of the first two is used; `--lite-mode` is, where the table above shows no cost per call.',
      "  filesystem's `directory_tree` costs the same in lite mode, but its JavaScript-heavy calls do not (measured apart,",
      '  p50 of 40, JIT / lite): `edit_file` of 50 edits on a 5,000-line file 10.6 / 17.5 ms, `search_files` `**/*.ts`',
      '  over src/ 5.4 / 6.5 ms; so it keeps the optimizing compiler.',
      '- The idle RSS goal is out of reach by this measure: eight Node processes each map about 35 MB of the node',
      '  binary (shared, counted in every RSS); eight bare `node -e` processes measure the floor above, before any',
      "  process's own memory (about 7 MB for a bare Node, 12 to 14 MB for a child now). PSS, which counts shared pages",
      "  once, is the fleet's real cost.",
      "- Wall times depend on what else the machine's cores are doing; the CPU seconds are the steadier figure.",
      "- SIGKILL → RUNNING is the first backoff step (100 ms, CONTRACT) plus a child's start from its code cache, 0.10",
      '  to 0.12 s of CPU: about 240 ms on a core of its own, more when the cores are busy. What is left of a start:',
      "  Node's own boot (about 40 ms) and running the bundle (the SDK builds its zod schemas at import). The",
      "  supervisor's own start still imports the SDK's types module (all its zod schemas) for the protocol version",
      '  constants in managed-child.ts and gateway/session.ts.',
    ]
      .filter((line, i, all) => line !== '' || all[i - 1] !== '')
      .join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

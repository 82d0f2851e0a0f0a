import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHarness, fixture, type Harness, NO_BUILTINS } from '../test/helpers/harness.js';
import { closedLoop, fmt, type LoadResult, socketRpc } from './driver.js';
import type { BenchSection } from './types.js';

/** Requests per measured run, and rounds (alternating builds) per workload. */
const REQUESTS = 20_000;
const ROUNDS = 9;
const CONCURRENCY = 64;

/** A supervisor built from one checkout (this one, or the baseline's), on its own home and sockets. */
interface Build {
  label: string;
  cli: string;
  h: Harness;
}

function startBuild(label: string, cli: string): Build {
  const h = createHarness();
  const files = join(realpathSync(h.dir), 'files');
  mkdirSync(files, { recursive: true });
  for (let i = 0; i < 100; i++) writeFileSync(join(files, `f${i}.txt`), `file ${i}\n`.repeat(20));
  h.writeConfig({
    children: { ...NO_BUILTINS, filesystem: { roots: [files] } },
    mcpServers: { cached: { ...fixture(), cache: { tools: { echo: true } } } },
  });
  const started = spawnSync(process.execPath, [cli, 'start'], { env: h.env, cwd: h.dir, encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`${label}: omnimind start failed: ${started.stderr}`);
  return { label, cli, h };
}

function stopBuild(build: Build): void {
  spawnSync(process.execPath, [build.cli, 'stop'], { env: build.h.env, cwd: build.h.dir });
}

/** Cached reads through one build's gateway: 100 distinct requests repeated, all hits once warm. */
async function cachedReads(build: Build, workload: 'echo' | 'filesystem'): Promise<LoadResult> {
  const child = workload === 'echo' ? 'cached' : 'filesystem';
  const files = join(realpathSync(build.h.dir), 'files');
  const connection = await socketRpc(build.h.socket(child));
  const send = (i: number) =>
    workload === 'echo'
      ? connection.rpc.request('tools/call', { name: 'echo', arguments: { text: `m${i % 100}` } })
      : connection.rpc.request('tools/call', {
          name: 'read_text_file',
          arguments: { path: join(files, `f${i % 100}.txt`) },
        });
  await closedLoop(send, CONCURRENCY, 2_000);
  const result = await closedLoop(send, CONCURRENCY, REQUESTS);
  connection.close();
  return result;
}

/** Errors over all rounds of one build. */
function sum(results: LoadResult[]): number {
  return results.reduce((total, result) => total + result.errors, 0);
}

function median(results: LoadResult[]): LoadResult {
  return [...results].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(results.length / 2)]!;
}

/**
 * Cached read throughput of this build against a baseline checkout (`OMNIMIND_BASELINE`: a directory with the
 * earlier version built), alternating rounds in one run so both see the same machine.
 */
export async function run(): Promise<BenchSection> {
  const baselineDir = process.env.OMNIMIND_BASELINE;
  if (!baselineDir) throw new Error('set OMNIMIND_BASELINE to a checkout of the version to compare with (built)');
  const baselineCommit = spawnSync('git', ['-C', baselineDir, 'log', '-1', '--format=%h %s'], {
    encoding: 'utf8',
  }).stdout.trim();
  const builds = [
    startBuild('baseline', join(baselineDir, 'bin', 'omnimind.js')),
    startBuild('this build', join(import.meta.dirname, '..', 'bin', 'omnimind.js')),
  ];
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    for (const workload of ['echo', 'filesystem'] as const) {
      const results = builds.map(() => [] as LoadResult[]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, build] of builds.entries()) results[i]!.push(await cachedReads(build, workload));
      }
      const [before, after] = results.map(median) as [LoadResult, LoadResult];
      // Paired: each round's ratio compares runs made back to back, so drift of the machine cancels out.
      const ratios = results[1]!.map((run, round) => run.perSecond / results[0]![round]!.perSecond);
      const ratio = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
      rows.push(
        `| ${workload === 'echo' ? 'external child, cached `echo`' : 'filesystem, cached `read_text_file`'} | ${fmt(before.perSecond, 0)} | ${fmt(after.perSecond, 0)} | ${fmt(ratio, 3)}× | ${fmt(before.p50Ms, 3)} / ${fmt(after.p50Ms, 3)} | ${sum(results[0]!)} / ${sum(results[1]!)} |`,
      );
      verdicts.push(
        `${workload}: ${fmt((ratio - 1) * 100, 1)} % vs baseline (goal: within 5 %): ${ratio >= 0.95 ? 'met' : 'missed'}`,
      );
    }
  } finally {
    for (const build of builds) {
      stopBuild(build);
      await build.h.cleanup();
    }
  }
  return {
    title: 'Cached reads with per-client keys: this build vs the previous one',
    command: 'OMNIMIND_BASELINE=<checkout of the previous version, built> npm run bench -- isolation',
    markdown: [
      `${REQUESTS} cached reads per run (100 distinct requests, all hits once warm), ${CONCURRENCY} in flight on one`,
      `connection, a client without roots (the common case); ${ROUNDS} alternating rounds per build: req/s and p50 are`,
      "the median round of each build, the ratio is the median of the rounds' paired ratios.",
      '',
      `Baseline: ${baselineCommit}.`,
      '',
      '| workload | baseline req/s | this build req/s | ratio | p50 ms (baseline / this) | errors (baseline / this) |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      ...verdicts.map((v) => `- ${v}`),
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

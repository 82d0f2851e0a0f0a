import { join } from 'node:path';
import { callControl } from '../src/supervisor/index.js';
import { createHarness, fixture, NO_BUILTINS } from '../test/helpers/harness.js';
import { alternately, closedLoop, fmt, type LoadResult, percentile, socketRpc } from './driver.js';
import { cpuSeconds } from './proc-stats.js';
import type { BenchSection } from './types.js';

/** Requests per measured run. */
const REQUESTS = 20_000;
/** Paired rounds per concurrency; the median round is reported. */
const ROUNDS = 3;
const CONCURRENCIES = [1, 64];

/** The median of one figure over the rounds. */
function median(results: LoadResult[], key: 'perSecond' | 'p50Ms'): number {
  return percentile(
    results.map((r) => r[key]),
    0.5,
  );
}

/** The same uncached echo through the child's own socket and through the `omnimind` profile, rounds paired. */
export async function run(): Promise<BenchSection> {
  const h = createHarness({ children: NO_BUILTINS, mcpServers: { echo: fixture() } });
  const rows: string[] = [];
  const verdicts: string[] = [];
  try {
    await h.cli(['start']);
    const supervisorPid = (await callControl(join(h.runtimeDir, 'control.sock'), 'status', {})).supervisor.pid;
    for (const concurrency of CONCURRENCIES) {
      const child = await socketRpc(h.socket('echo'));
      const profile = await socketRpc(h.socket('omnimind'));
      const viaChild = (i: number) => child.rpc.request('tools/call', { name: 'echo', arguments: { text: `m${i}` } });
      const viaProfile = (i: number) =>
        profile.rpc.request('tools/call', { name: 'echo__echo', arguments: { text: `m${i}` } });
      await profile.rpc.request('tools/list');
      await closedLoop(viaChild, concurrency, 2000);
      await closedLoop(viaProfile, concurrency, 2000);
      const direct: LoadResult[] = [];
      const routed: LoadResult[] = [];
      let childCpu = 0;
      let profileCpu = 0;
      const measureChild = async () => {
        const cpu = cpuSeconds(supervisorPid);
        direct.push(await closedLoop(viaChild, concurrency, REQUESTS));
        childCpu += cpuSeconds(supervisorPid) - cpu;
      };
      const measureProfile = async () => {
        const cpu = cpuSeconds(supervisorPid);
        routed.push(await closedLoop(viaProfile, concurrency, REQUESTS));
        profileCpu += cpuSeconds(supervisorPid) - cpu;
      };
      await alternately(ROUNDS, measureChild, measureProfile);
      child.close();
      profile.close();
      const ratio = median(routed, 'perSecond') / median(direct, 'perSecond');
      const extraUs = (median(routed, 'p50Ms') - median(direct, 'p50Ms')) * 1000;
      const perRequest = (cpu: number) => (cpu / (ROUNDS * REQUESTS)) * 1e6;
      const errors = [...direct, ...routed].reduce((sum, r) => sum + r.errors, 0);
      rows.push(
        `| ${concurrency} | ${fmt(median(direct, 'perSecond'), 0)} | ${fmt(median(routed, 'perSecond'), 0)} | ${fmt(ratio, 3)}× | ${fmt(median(direct, 'p50Ms'), 3)} | ${fmt(median(routed, 'p50Ms'), 3)} | ${fmt(extraUs, 1)} µs | ${fmt(perRequest(childCpu), 1)} / ${fmt(perRequest(profileCpu), 1)} µs | ${errors} |`,
      );
      if (concurrency === 64) {
        verdicts.push(
          `profile throughput at concurrency 64: ${fmt(ratio, 3)}× the child's socket (goal ≥ 0.90×, a cost ≤ 10 %): ${ratio >= 0.9 ? 'met' : 'missed'}`,
        );
      }
      if (concurrency === 1) {
        verdicts.push(
          `profile p50 cost at concurrency 1: ${fmt(extraUs, 1)} µs (goal ≤ 20 µs): ${extraUs <= 20 ? 'met' : 'missed'}`,
        );
      }
    }
  } finally {
    await h.cleanup();
  }
  return {
    title: 'Profile overhead: the same echo through the child socket and through the omnimind profile',
    command: 'npm run bench -- profile',
    markdown: [
      `${REQUESTS} uncached \`tools/call\` requests per run (after 2,000 warm-up), one connection, closed loop;`,
      `${ROUNDS} paired rounds (the order alternating), medians shown; the default config.`,
      '',
      '| concurrency | child socket req/s | profile req/s | ratio | child p50 ms | profile p50 ms | p50 cost | supervisor CPU per request (child / profile) | errors |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      ...verdicts.map((v) => `- ${v}`),
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  AdaptiveLimiter,
  LIMITER_DEFAULTS,
  type LimiterRejection,
  PRIORITIES,
  type Priority,
} from '../src/limiter/index.js';
import { Cancellation } from '../src/protocol/index.js';
import { fmt, percentile } from './driver.js';
import type { BenchSection } from './types.js';

/** Requests the simulated child serves at once; more wait in its own FIFO, as on a child's stdin. */
const CHILD_CAPACITY = 32;
/** Service time of one request: with CHILD_CAPACITY, the child serves at most 800 req/s. */
const SERVICE_MS = 40;
/** How long the child's real capacity (timers overshoot on a busy machine) is measured, saturated, before the run. */
const CAPACITY_PROBE_MS = 2_000;
/** The sustainable rate is 90% of the measured capacity: at 100% any queue is a random walk that never drains. */
const SUSTAINABLE_FRACTION = 0.9;
/** Overload factor the issue asks for. */
const OVERLOAD_FACTOR = 10;
/** Overload duration: 10 s for `npm run bench`, the issue's 30 s with OMNIMIND_BENCH_FULL=1. */
const OVERLOAD_SECONDS = process.env.OMNIMIND_BENCH_FULL === '1' ? 30 : 10;
/** Warm-up (not measured: the rate slow-starts from 100 rps), then unloaded (half the sustainable rate) and
 * sustainable phases, long enough for ~150 HIGH/CRITICAL samples. */
const WARMUP_SECONDS = 2;
const UNLOADED_SECONDS = 5;
const SUSTAINABLE_SECONDS = 5;
/** Clients that each keep one request in flight, and how long they run: hundreds must never be shed. */
const CLOSED_LOOP_CLIENTS = 500;
const CLOSED_LOOP_SECONDS = 8;
/** During the closed-loop phase the child stops (as in a restart) this often, for this long. */
const RESTARTS = 4;
const RESTART_MS = 1_000;
/** Priority mix per 100 requests: HIGH and CRITICAL together are 0.7x the sustainable rate under 10x overload. */
const MIX: readonly [Priority, number][] = [
  ['CRITICAL', 2],
  ['HIGH', 5],
  ['NORMAL', 33],
  ['LOW', 60],
];
/** Sequential requests per overhead round; the best of OVERHEAD_ROUNDS is kept (the machine is shared). */
const OVERHEAD_REQUESTS = 50_000;
const OVERHEAD_ROUNDS = 5;
/** RSS growth is judged from this far into the overload: the first second sizes V8's heap for the new load. */
const RSS_STEADY_FROM_MS = 2_000;
/** Width of the buckets the settled throughput is measured in. */
const BUCKET_MS = 500;

/** Limiter state and RSS, sampled every BUCKET_MS during the overload. */
interface Sample {
  at: number;
  rps: number;
  window: number;
  rss: number;
}

interface PhaseStats {
  sent: Record<Priority, number>;
  ok: Record<Priority, number>;
  shed: Record<Priority, number>;
  timedOut: Record<Priority, number>;
  otherErrors: number;
  latencies: Record<Priority, number[]>;
  pending: Set<number>;
  completedAt: number[];
}

/**
 * A child with a fixed number of service slots and a FIFO behind them; cancelled waiting requests are dropped.
 * While stopped (a restart) it starts nothing: requests wait in its FIFO, as the gateway holds them.
 */
class SimulatedChild {
  #busy = 0;
  #stopped = false;
  readonly #waiting: { start: () => void; cancellation: Cancellation }[] = [];

  stop(): void {
    this.#stopped = true;
  }

  start(): void {
    this.#stopped = false;
    while (this.#busy < CHILD_CAPACITY && this.#waiting.length > 0) this.#next();
  }

  call(cancellation: Cancellation): Promise<number> {
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const start = () => {
        this.#busy += 1;
        setTimeout(() => {
          this.#busy -= 1;
          this.#next();
          resolve(performance.now() - sentAt);
        }, SERVICE_MS);
      };
      if (this.#busy < CHILD_CAPACITY && !this.#stopped) start();
      else {
        this.#waiting.push({ start, cancellation });
        cancellation.onAbort(reject);
      }
    });
  }

  #next(): void {
    if (this.#stopped) return;
    for (let item = this.#waiting.shift(); item; item = this.#waiting.shift()) {
      if (item.cancellation.aborted) continue;
      item.start();
      return;
    }
  }
}

function byPriority<T>(make: () => T): Record<Priority, T> {
  return { CRITICAL: make(), HIGH: make(), NORMAL: make(), LOW: make() };
}

function createPhase(): PhaseStats {
  return {
    sent: byPriority(() => 0),
    ok: byPriority(() => 0),
    shed: byPriority(() => 0),
    timedOut: byPriority(() => 0),
    otherErrors: 0,
    latencies: byPriority((): number[] => []),
    pending: new Set(),
    completedAt: [],
  };
}

function priorityOf(sequence: number): Priority {
  let slot = sequence % 100;
  for (const [priority, share] of MIX) {
    if (slot < share) return priority;
    slot -= share;
  }
  return 'LOW';
}

/** Sends one request of `priority` through the limiter to the child and records its outcome in `phase`. */
function send(limiter: AdaptiveLimiter, child: SimulatedChild, priority: Priority, phase: PhaseStats, id: number) {
  phase.sent[priority] += 1;
  phase.pending.add(id);
  const sentAt = performance.now();
  return limiter
    .run(
      async (cancellation) => {
        try {
          const latency = await child.call(cancellation);
          limiter.recordOutcome('sim', latency, true);
        } catch (error) {
          limiter.recordOutcome('sim', performance.now() - sentAt, false);
          throw error;
        }
      },
      { priority, child: 'sim' },
    )
    .then(
      () => {
        phase.ok[priority] += 1;
        phase.latencies[priority].push(performance.now() - sentAt);
        phase.completedAt.push(performance.now());
      },
      (error: LimiterRejection) => {
        if (error.code === 'SHED') phase.shed[priority] += 1;
        else if (error.code === 'TIMEOUT') phase.timedOut[priority] += 1;
        else phase.otherErrors += 1;
      },
    )
    .finally(() => phase.pending.delete(id));
}

/**
 * CLOSED_LOOP_CLIENTS clients that each send their next NORMAL request when the last is answered, for
 * CLOSED_LOOP_SECONDS, while the child stops RESTARTS times for RESTART_MS (the limiter is told, as the gateway does).
 */
async function driveClosedLoop(limiter: AdaptiveLimiter, child: SimulatedChild, phase: PhaseStats) {
  const until = performance.now() + CLOSED_LOOP_SECONDS * 1000;
  let sequence = 0;
  const client = async () => {
    while (performance.now() < until) await send(limiter, child, 'NORMAL', phase, sequence++);
  };
  const restarts = (async () => {
    for (let restart = 0; restart < RESTARTS; restart++) {
      await sleep((CLOSED_LOOP_SECONDS * 1000) / RESTARTS - RESTART_MS);
      child.stop();
      limiter.noteChildState('sim', false);
      await sleep(RESTART_MS);
      child.start();
      limiter.noteChildState('sim', true);
    }
  })();
  await Promise.all([...Array.from({ length: CLOSED_LOOP_CLIENTS }, client), restarts]);
}

/** Waits until every request of `phases` has its outcome, at most the default timeout and a margin. */
async function settled(phases: PhaseStats[]): Promise<void> {
  const until = performance.now() + LIMITER_DEFAULTS.timeoutMs + 500;
  while (phases.some((p) => p.pending.size > 0) && performance.now() < until) await sleep(50);
}

/** Sends requests at `rps`, evenly paced by elapsed time, for `seconds`; records every outcome in `phase`. */
async function drive(limiter: AdaptiveLimiter, child: SimulatedChild, rps: number, seconds: number, phase: PhaseStats) {
  const startedAt = performance.now();
  let sent = 0;
  let sequence = 0;
  while (performance.now() - startedAt < seconds * 1000) {
    const due = Math.floor(((performance.now() - startedAt) * rps) / 1000);
    for (; sent < due; sent++) {
      const id = sequence++;
      void send(limiter, child, priorityOf(id), phase, id);
    }
    await sleep(1);
  }
}

function sum(record: Record<Priority, number>, priorities: readonly Priority[] = PRIORITIES): number {
  return priorities.reduce((total, priority) => total + record[priority], 0);
}

function meanAndCv(values: number[]): { mean: number; cv: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, cv: mean > 0 ? Math.sqrt(variance) / mean : 0 };
}

function verdict(met: boolean): string {
  return met ? 'met' : 'missed';
}

/** Best-of-rounds cost per request, in µs, of `await limiter.run(task)` over `await task()`, sequential, idle. */
async function measureOverheadUs(): Promise<{ ownCancellation: number; callerCancellation: number }> {
  const limiter = new AdaptiveLimiter({ initialRps: 1e9, maxRps: 1e9 });
  const task = async (_cancellation?: Cancellation) => 1;
  const time = async (once: () => Promise<unknown>) => {
    const startedAt = performance.now();
    for (let i = 0; i < OVERHEAD_REQUESTS; i++) await once();
    return ((performance.now() - startedAt) * 1000) / OVERHEAD_REQUESTS;
  };
  const best = { ownCancellation: Number.POSITIVE_INFINITY, callerCancellation: Number.POSITIVE_INFINITY };
  try {
    for (let round = 0; round < OVERHEAD_ROUNDS; round++) {
      const bare = await time(task);
      const own = await time(() => limiter.run(task, { priority: 'NORMAL', child: 'bench' }));
      // The gateway already has a cancellation per request; passing it saves the limiter making one.
      const caller = await time(() =>
        limiter.run(task, { priority: 'NORMAL', child: 'bench', cancellation: new Cancellation() }),
      );
      const cancellationOnly = await time(() => task(new Cancellation()));
      best.ownCancellation = Math.min(best.ownCancellation, own - bare);
      best.callerCancellation = Math.min(best.callerCancellation, caller - cancellationOnly);
    }
  } finally {
    limiter.close();
  }
  return best;
}

/** Completions per second of the child alone, kept saturated: its real capacity on this machine right now. */
async function measureCapacityRps(child: SimulatedChild): Promise<number> {
  const cancellation = new Cancellation();
  const until = performance.now() + CAPACITY_PROBE_MS;
  let done = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await child.call(cancellation);
      done += 1;
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: CHILD_CAPACITY }, worker));
  return (done * 1000) / (performance.now() - startedAt);
}

/** RSS and heap in use after a full garbage collection, so that heap churn is not mistaken for growth. */
function settledMemory(): { rss: number; heapUsed: number } {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/** Overload of a simulated child through the limiter: shedding, latency by priority, settling, overhead. */
export async function run(): Promise<BenchSection> {
  const child = new SimulatedChild();
  const capacityRps = await measureCapacityRps(child);
  const sustainableRps = Math.round(capacityRps * SUSTAINABLE_FRACTION);
  const limiter = new AdaptiveLimiter();
  const unloaded = createPhase();
  const sustainable = createPhase();
  const closedLoop = createPhase();
  const overload = createPhase();
  const samples: Sample[] = [];
  try {
    await drive(limiter, child, sustainableRps / 2, WARMUP_SECONDS, createPhase());
    await drive(limiter, child, sustainableRps / 2, UNLOADED_SECONDS, unloaded);
    await drive(limiter, child, sustainableRps, SUSTAINABLE_SECONDS, sustainable);
    await driveClosedLoop(limiter, child, closedLoop);
    await settled([unloaded, sustainable, closedLoop]);
    const before = settledMemory();
    const sampler = setInterval(() => {
      const stats = limiter.stats();
      samples.push({
        at: performance.now(),
        rps: stats.rps,
        window: stats.children.sim?.window ?? 0,
        rss: process.memoryUsage.rss(),
      });
    }, BUCKET_MS);
    const overloadStart = performance.now();
    await drive(limiter, child, sustainableRps * OVERLOAD_FACTOR, OVERLOAD_SECONDS, overload);
    const overloadEnd = performance.now();
    clearInterval(sampler);
    // Every request must have settled by its deadline plus a margin; any left then is a hang.
    await settled([overload]);
    const after = settledMemory();
    const overheadUs = await measureOverheadUs();
    return report({
      capacityRps,
      sustainableRps,
      unloaded,
      sustainable,
      closedLoop,
      overload,
      samples,
      overloadStart,
      overloadEnd,
      overheadUs,
      peakQueued: limiter.stats().peakQueued,
      memory: { before, after },
    });
  } finally {
    limiter.close();
  }
}

function report(r: {
  capacityRps: number;
  sustainableRps: number;
  unloaded: PhaseStats;
  sustainable: PhaseStats;
  closedLoop: PhaseStats;
  overload: PhaseStats;
  samples: Sample[];
  overloadStart: number;
  overloadEnd: number;
  overheadUs: { ownCancellation: number; callerCancellation: number };
  peakQueued: number;
  memory: { before: { rss: number; heapUsed: number }; after: { rss: number; heapUsed: number } };
}): BenchSection {
  const { unloaded, sustainable, closedLoop, overload } = r;
  const urgent: Priority[] = ['CRITICAL', 'HIGH'];
  const rows = PRIORITIES.map((priority) => {
    const sent = overload.sent[priority];
    const shedPct = (100 * overload.shed[priority]) / Math.max(sent, 1);
    return `| ${priority} | ${sent} | ${fmt(shedPct, 1)} % | ${overload.timedOut[priority]} | ${fmt(percentile(unloaded.latencies[priority], 0.99))} | ${fmt(percentile(overload.latencies[priority], 0.99))} |`;
  });
  const urgentShed = sum(overload.shed, urgent);
  const urgentSent = sum(overload.sent, urgent);
  const p99Unloaded = percentile([...unloaded.latencies.CRITICAL, ...unloaded.latencies.HIGH], 0.99);
  const p99Overload = percentile([...overload.latencies.CRITICAL, ...overload.latencies.HIGH], 0.99);
  const p99Ratio = p99Overload / p99Unloaded;
  const hung = unloaded.pending.size + sustainable.pending.size + closedLoop.pending.size + overload.pending.size;
  const closedLoopDropped = sum(closedLoop.shed) + sum(closedLoop.timedOut) + closedLoop.otherErrors;
  const maxQueued = r.peakQueued;
  const { before, after } = r.memory;
  const rssChange = (after.rss - before.rss) / before.rss;
  // Steady state: from RSS_STEADY_FROM_MS into the overload, once V8 has sized its young generation for the load.
  const steady = r.samples.filter((s) => s.at >= r.overloadStart + RSS_STEADY_FROM_MS);
  const rssSteadyStart = steady[0]?.rss ?? Number.NaN;
  const rssSteadyEnd = steady.at(-1)?.rss ?? Number.NaN;
  const rssPeak = Math.max(...r.samples.map((s) => s.rss));
  const rssSteadyChange = (rssSteadyEnd - rssSteadyStart) / rssSteadyStart;
  const sustainableDropped = sum(sustainable.shed) + sum(sustainable.timedOut) + sustainable.otherErrors;
  const sustainableDrop = sustainableDropped / Math.max(sum(sustainable.sent), 1);
  // Settled throughput: completions per bucket over the second half of the overload.
  const settleFrom = (r.overloadStart + r.overloadEnd) / 2;
  const buckets: number[] = [];
  for (let at = settleFrom; at + BUCKET_MS <= r.overloadEnd; at += BUCKET_MS) {
    const done = overload.completedAt.filter((t) => t >= at && t < at + BUCKET_MS).length;
    buckets.push((done * 1000) / BUCKET_MS);
  }
  const settled = meanAndCv(buckets);
  const lateSamples = r.samples.filter((s) => s.at >= settleFrom);
  const windows = meanAndCv(lateSamples.map((s) => s.window));
  const rateLimit = meanAndCv(lateSamples.map((s) => s.rps));
  const lowShedPct = (100 * overload.shed.LOW) / Math.max(overload.sent.LOW, 1);
  const mib = (bytes: number) => fmt(bytes / 2 ** 20);

  const goals = [
    `HIGH/CRITICAL shed under ${OVERLOAD_FACTOR}x overload: ${urgentShed} of ${urgentSent} (goal 0 %): ${verdict(urgentShed === 0)}`,
    `p99 of HIGH/CRITICAL: ${fmt(p99Overload)} ms under overload vs ${fmt(p99Unloaded)} ms unloaded = ${fmt(p99Ratio, 2)}x (goal <= 2x): ${verdict(p99Ratio <= 2)}`,
    `LOW shed with SHED: ${fmt(lowShedPct)} % of LOW; requests that neither resolved nor rejected within the timeout: ${hung} (goal 0): ${verdict(hung === 0)}`,
    `rejections other than SHED/TIMEOUT: ${unloaded.otherErrors + sustainable.otherErrors + overload.otherErrors}`,
    `${CLOSED_LOOP_CLIENTS} clients with one request each in flight for ${CLOSED_LOOP_SECONDS} s, the child stopped ${RESTARTS} times for ${RESTART_MS} ms: ${closedLoopDropped} of ${sum(closedLoop.sent)} shed or timed out (goal 0): ${verdict(closedLoopDropped === 0)}`,
    `max queue depth: ${maxQueued} (the memory bound \`maxQueue\` is ${LIMITER_DEFAULTS.maxQueue}: until the first waits pass the target, it is what sheds a 10x overload)`,
    `RSS during the overload, from ${RSS_STEADY_FROM_MS / 1000} s in to its end: ${mib(rssSteadyStart)} -> ${mib(rssSteadyEnd)} MiB = ${fmt(100 * rssSteadyChange, 1)} % (goal within ±10 %): ${verdict(Math.abs(rssSteadyChange) <= 0.1)}; peak ${mib(rssPeak)} MiB. ` +
      `Before vs after the whole overload, each after a full GC: RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB (${fmt(100 * rssChange, 1)} %: V8 keeps the heap it grew for the allocation rate), heap in use ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} MiB`,
    `drop rate at the sustainable rate (${r.sustainableRps} req/s): ${sustainableDropped} of ${sum(sustainable.sent)} = ${fmt(100 * sustainableDrop, 2)} % (goal < 1 %): ${verdict(sustainableDrop < 0.01)}`,
    `settled throughput (second half of the overload): ${fmt(settled.mean, 0)} req/s = ${fmt(settled.mean / r.capacityRps, 2)}x the child's measured capacity, CV ${fmt(settled.cv, 3)}; child window ${fmt(windows.mean)} (the child serves ${CHILD_CAPACITY} at once), CV ${fmt(windows.cv, 3)}; rate limit ${fmt(rateLimit.mean, 0)} rps, CV ${fmt(rateLimit.cv, 3)}`,
    `run() overhead at no contention: ${fmt(r.overheadUs.ownCancellation, 2)} µs per request making the task's cancellation, ${fmt(r.overheadUs.callerCancellation, 2)} µs with the caller's (goal a few µs, <= 5): ${verdict(r.overheadUs.ownCancellation <= 5)}`,
  ];
  return {
    title: 'Limiter: 10x overload of a simulated child, by priority',
    command: 'npm run bench -- limiter  (OMNIMIND_BENCH_FULL=1 for the 30 s overload)',
    markdown: [
      `In-process: a simulated child serving ${CHILD_CAPACITY} requests at once in ${SERVICE_MS} ms each (measured capacity ${fmt(r.capacityRps, 0)} req/s; sustainable rate = ${SUSTAINABLE_FRACTION} of it = ${r.sustainableRps} req/s) behind one \`AdaptiveLimiter\` with the default options. ` +
        `Phases on one limiter: ${WARMUP_SECONDS} s warm-up and ${UNLOADED_SECONDS} s at 0.5x, ${SUSTAINABLE_SECONDS} s at 1x, ${CLOSED_LOOP_SECONDS} s of ${CLOSED_LOOP_CLIENTS} closed-loop clients, then ${OVERLOAD_SECONDS} s at ${OVERLOAD_FACTOR}x (${r.sustainableRps * OVERLOAD_FACTOR} req/s) with the mix ${MIX.map(([p, s]) => `${s} % ${p}`).join(', ')}. Latency is from \`run()\` to its answer.`,
      '',
      '| priority | sent (overload) | shed | timed out | p99 unloaded ms | p99 overload ms |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      ...goals.map((goal) => `- ${goal}`),
    ].join('\n'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${(await run()).markdown}\n`);

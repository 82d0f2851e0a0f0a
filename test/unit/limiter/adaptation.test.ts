import { describe, expect, it } from 'vitest';
import { type AdaptiveLimiter, type LimiterOptions, MIN_CHILD_WINDOW } from '../../../src/limiter/index.js';
import { createTestLimiter, type FakeClock, settle } from './fake-clock.js';

function createLimiter(options: LimiterOptions = {}) {
  const warnings: string[] = [];
  const created = createTestLimiter({
    sampleIntervalMs: 1_000,
    maxQueue: 100_000,
    timeoutMs: 600_000,
    logger: { info: () => {}, warn: (m) => warnings.push(m) },
    ...options,
  });
  return { ...created, warnings };
}

/** Keeps `backlog` instant requests waiting, so the rate limit binds whenever it is below the offered load. */
function flood(limiter: AdaptiveLimiter, backlog: number): void {
  const missing = backlog - limiter.stats().queued;
  for (let i = 0; i < missing; i++) {
    limiter.run(async () => 'ok', { priority: 'NORMAL', child: 'memory' }).catch(() => {});
  }
}

/** Advances one sample interval in 100 ms steps under a flood; returns the rate after it. */
async function floodInterval(clock: FakeClock, limiter: AdaptiveLimiter, backlog: number): Promise<number> {
  for (let step = 0; step < 10; step++) {
    flood(limiter, backlog);
    await clock.advance(100);
  }
  return limiter.stats().rps;
}

/** A child on fake time: each request waits until `answer` reports its latency and resolves it. */
function createChild(limiter: AdaptiveLimiter, name: string) {
  const waiting: (() => void)[] = [];
  return {
    submit(count: number) {
      for (let i = 0; i < count; i++) {
        limiter
          .run(() => new Promise<void>((resolve) => waiting.push(resolve)), { priority: 'NORMAL', child: name })
          .catch(() => {});
      }
    },
    /** Answers every request in flight (one round trip), each with this latency (or the i-th of n with
     * `latencyMs(i, n)`); `rounds` times. */
    async answer(latencyMs: number | ((i: number, n: number) => number), ok = true, rounds = 1) {
      for (let round = 0; round < rounds; round++) {
        const answering = waiting.splice(0);
        answering.forEach((resolve, i) => {
          limiter.recordOutcome(name, typeof latencyMs === 'number' ? latencyMs : latencyMs(i, answering.length), ok);
          resolve();
        });
        await settle();
      }
    },
  };
}

describe('AdaptiveLimiter rate adaptation', () => {
  it('slow-starts from 100 rps to maxRps within two intervals while healthy and binding', async () => {
    const { clock, limiter } = createLimiter({ maxRps: 25_600, childConcurrency: { memory: 1_000 } });
    expect(limiter.stats().rps).toBe(100);
    const afterFirst = await floodInterval(clock, limiter, 3_000);
    expect(afterFirst).toBeGreaterThanOrEqual(100 * 2 ** 6);
    const afterSecond = await floodInterval(clock, limiter, 3_000);
    expect(afterSecond).toBe(25_600);
    expect(limiter.stats().throughputRps).toBeGreaterThan(10_000);
  });

  it('does not raise the rate while it does not bind', async () => {
    const { clock, limiter } = createLimiter();
    for (let i = 0; i < 50; i++) {
      await limiter.run(async () => 'ok', { priority: 'NORMAL', child: 'memory' });
      await clock.advance(100);
    }
    expect(limiter.stats().rps).toBe(100);
    expect(limiter.stats().throughputRps).toBeCloseTo(10, 0);
  });

  it('cuts multiplicatively on a stressed health sample down to minRps, then raises additively up to maxRps', async () => {
    const { clock, health, limiter, warnings } = createLimiter({ initialRps: 200, minRps: 20, maxRps: 400 });
    expect(await floodInterval(clock, limiter, 100)).toBe(400);
    health.current = { eventLoopDelayMs: 400, cpu: 0.5, memory: 0.3 };
    const cuts: number[] = [];
    for (let i = 0; i < 10; i++) cuts.push(await floodInterval(clock, limiter, 100));
    expect(cuts[0]).toBeCloseTo(280, 0);
    for (let i = 1; i < cuts.length; i++) {
      expect(cuts[i]).toBeLessThanOrEqual(cuts[i - 1]!);
      expect(cuts[i]).toBeGreaterThanOrEqual(20);
    }
    expect(cuts.at(-1)).toBe(20);
    expect(warnings[0]).toMatch(/cut the rate to 280 rps \(slow start over\): event loop delay 400 ms >= 100 ms/);

    health.current = { eventLoopDelayMs: 2, cpu: 0.5, memory: 0.3 };
    const raises: number[] = [];
    for (let i = 0; i < 3; i++) raises.push(await floodInterval(clock, limiter, 100));
    expect(raises).toEqual([40, 60, 80]);
    for (let i = 0; i < 20; i++) await floodInterval(clock, limiter, 100);
    expect(limiter.stats().rps).toBe(400);
  });

  it('cuts on CPU or memory stress as well', async () => {
    for (const stressed of [
      { eventLoopDelayMs: 0, cpu: 0.97, memory: 0.1 },
      { eventLoopDelayMs: 0, cpu: 0.1, memory: 0.95 },
    ]) {
      const { clock, health, limiter, warnings } = createLimiter();
      health.current = stressed;
      await clock.advance(1_000);
      expect(limiter.stats().rps).toBe(70);
      expect(warnings[0]).toMatch(stressed.cpu > 0.9 ? /CPU 97% of all cores/ : /heap 95% of its limit/);
    }
  });

  it('cuts the rate when the busiest child answers slower than its baseline', async () => {
    const { clock, limiter, warnings } = createLimiter();
    for (let i = 0; i < 96; i++) limiter.recordOutcome('memory', 10, true);
    await clock.advance(1_000);
    expect(limiter.stats().rps).toBe(100);
    expect(limiter.stats().children.memory?.baselineMs).toBeCloseTo(10, 5);
    for (let i = 0; i < 96; i++) limiter.recordOutcome('memory', 40, true);
    await clock.advance(1_000);
    expect(limiter.stats().rps).toBe(70);
    expect(warnings[0]).toMatch(
      /child memory latency 40\.0 ms >= 1\.5x its baseline \d+\.\d ms \(fastest answer per round trip\)/,
    );
  });

  it('cuts the rate when the busiest child fails, but not for a minor child', async () => {
    const { clock, limiter, warnings } = createLimiter();
    for (let i = 0; i < 100; i++) limiter.recordOutcome('memory', 5, true);
    for (let i = 0; i < 10; i++) limiter.recordOutcome('git', 5, false);
    await clock.advance(1_000);
    expect(limiter.stats().rps).toBe(100);
    for (let i = 0; i < 20; i++) limiter.recordOutcome('memory', 5, i % 2 === 0);
    await clock.advance(1_000);
    expect(limiter.stats().rps).toBe(70);
    expect(warnings[0]).toMatch(/child memory failed 50% of 20 answers/);
  });
});

describe('AdaptiveLimiter child windows', () => {
  it('slow-starts a binding window, cuts it to the Vegas estimate on queueing, on failures never below the minimum', async () => {
    const { limiter } = createLimiter({ initialRps: 1e6, maxRps: 1e6 });
    const child = createChild(limiter, 'python');
    const window = () => limiter.stats().children.python?.window ?? 0;
    child.submit(200);
    await settle();
    expect(window()).toBe(10);
    expect(limiter.stats().children.python).toMatchObject({ running: 10, queued: 190 });
    await child.answer(10);
    expect(window()).toBe(20);
    // Two round trips to see the effect of a change before the next.
    await child.answer(10, true, 2);
    expect(window()).toBe(20);
    await child.answer(10);
    expect(window()).toBe(40);
    // Queueing: 40 in flight at 50 ms against a 10 ms baseline means the child serves 40 x 10 / 50 = 8 at once.
    await child.answer(50);
    expect(window()).toBe(8);
    const cuts = [window()];
    for (let i = 0; i < 10; i++) {
      child.submit(60);
      await child.answer(10, false);
      cuts.push(window());
    }
    expect(cuts.at(-1)).toBe(MIN_CHILD_WINDOW);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeLessThanOrEqual(cuts[i - 1]!);
  });

  it('cuts once per stressed round trip and never grows above the configured cap', async () => {
    const { limiter } = createLimiter({ initialRps: 1e6, maxRps: 1e6, childConcurrency: { git: 24 } });
    const child = createChild(limiter, 'git');
    const window = () => limiter.stats().children.git?.window ?? 0;
    child.submit(800);
    await settle();
    await child.answer(10, true, 4);
    expect(window()).toBe(24);
    // 24 failed answers are three stressed batches, but those after the first were sent before the cut.
    await child.answer(10, false);
    expect(window()).toBe(16);
    await child.answer(10, false);
    expect(window()).toBe(11);
    await child.answer(10, true, 12);
    expect(window()).toBe(24);
  });

  it('after slow start, keeps a few requests queued in a child whose queue costs more than the allowance (Vegas)', async () => {
    // A high latency factor keeps the multiplicative cut out of the way.
    const { limiter } = createLimiter({ initialRps: 1e6, maxRps: 1e6, stress: { latencyFactor: 3 } });
    const child = createChild(limiter, 'sqlite');
    const window = () => limiter.stats().children.sqlite?.window ?? 0;
    child.submit(2_000);
    await settle();
    await child.answer(100, true, 4);
    expect(window()).toBe(40);
    await child.answer(100, false);
    expect(window()).toBe(28);
    // No queue (round mean = baseline): grow by beta = 6 x log10(28), then hold two round trips.
    await child.answer(100);
    expect(window()).toBe(36);
    await child.answer(100, true, 2);
    // 36.7 x (1 - 100/120) = 6.1 queued, between alpha (4.7) and beta (9.4): hold.
    await child.answer(120);
    expect(window()).toBe(36);
    // 3.3 queued, below alpha: one more.
    await child.answer(110);
    expect(window()).toBe(37);
    await child.answer(110, true, 2);
    // 18.8 queued, above beta: one less.
    await child.answer(200);
    expect(window()).toBe(36);
  });

  it('grows the window of a fast child while its queue adds less than the allowance to each answer', async () => {
    const { limiter } = createLimiter({ initialRps: 1e6, maxRps: 1e6, stress: { latencyFactor: 3 } });
    const child = createChild(limiter, 'echo');
    const window = () => limiter.stats().children.echo?.window ?? 0;
    child.submit(2_000);
    await settle();
    await child.answer(0.1, true, 4);
    await child.answer(0.1, false);
    const afterCut = window();
    // Every request in flight queued in the child (the mean answer is 10x the baseline), but for under 2 ms: grow.
    for (let i = 0; i < 12; i++) await child.answer(1);
    expect(window()).toBeGreaterThan(afterCut + 30);
    // Past the allowance, Vegas's band holds it back again: it shrinks by one a round.
    const grown = window();
    await child.answer(5, true, 3);
    expect(window()).toBeLessThan(grown);
  });

  it('keeps a few requests queued in a child that serves one at a time, without collapsing its window', async () => {
    const { limiter } = createLimiter({ initialRps: 1e6, maxRps: 1e6 });
    const child = createChild(limiter, 'thinking');
    const window = () => limiter.stats().children.thinking?.window ?? 0;
    child.submit(3_000);
    await settle();
    // The i-th of n requests in flight waits for the i before it: latency (i + 1) x 2 ms.
    const serial = (i: number) => (i + 1) * 2;
    const windows: number[] = [];
    for (let i = 0; i < 60; i++) {
      await child.answer(serial);
      windows.push(window());
    }
    for (const w of windows.slice(30)) {
      expect(w).toBeGreaterThanOrEqual(4);
      expect(w).toBeLessThanOrEqual(9);
    }
  });

  it('ignores latency while the window is mostly idle: a child whose tools differ in cost keeps its window', async () => {
    const { limiter } = createLimiter();
    const child = createChild(limiter, 'python');
    const latencies = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 900, 3, 2, 700, 2, 2, 1_500, 2, 2, 2];
    for (const latency of latencies) {
      child.submit(1);
      await settle();
      await child.answer(latency);
    }
    expect(limiter.stats().children.python?.window).toBe(10);
  });
});

import { describe, expect, it } from 'vitest';
import {
  type AdaptiveLimiter,
  LimiterRejection,
  type Priority,
  QueueDelay,
  STANDING_ANSWERS,
  TARGET_FLOOR_MS,
} from '../../../src/limiter/index.js';
import { createTestLimiter, type FakeClock, outcome } from './fake-clock.js';

/** Requests the simulated child serves at once, and how long each takes: 200 answers per second. */
const CAPACITY = 4;
const SERVICE_MS = 20;
const CAPACITY_RPS = (CAPACITY * 1000) / SERVICE_MS;

/**
 * A child on fake time with CAPACITY slots and a FIFO behind them. `stop()` is a crash: the requests it was serving
 * go back to the front of its FIFO (the gateway holds and replays them) and nothing is served until `start()`.
 */
class SimulatedChild {
  running = true;
  readonly #clock: FakeClock;
  readonly #waiting: (() => void)[] = [];
  readonly #serving = new Map<unknown, () => void>();

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  call(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#pump();
    });
  }

  stop(): void {
    this.running = false;
    for (const [handle, done] of this.#serving) {
      this.#clock.clearTimeout(handle);
      this.#waiting.unshift(done);
    }
    this.#serving.clear();
  }

  start(): void {
    this.running = true;
    this.#pump();
  }

  #pump(): void {
    while (this.running && this.#serving.size < CAPACITY && this.#waiting.length > 0) {
      const done = this.#waiting.shift()!;
      const handle = this.#clock.setTimeout(() => {
        this.#serving.delete(handle);
        done();
        this.#pump();
      }, SERVICE_MS);
      this.#serving.set(handle, done);
    }
  }
}

/** Lets fake time run until every request of a stopped load has its outcome. */
async function settleAll(clock: FakeClock, done: Promise<unknown>): Promise<void> {
  await clock.advance(35_000);
  await done;
}

/** Outcomes by priority, and when each shed happened. */
function createTally() {
  const count = () => ({ CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 }) as Record<Priority, number>;
  return { ok: count(), shed: count(), timedOut: count(), shedAt: [] as number[], lowOkAt: [] as number[] };
}
type Tally = ReturnType<typeof createTally>;

function setup(timeoutMs = 30_000) {
  const { clock, limiter } = createTestLimiter({
    initialRps: 1e6,
    maxRps: 1e6,
    timeoutMs,
    childConcurrency: { sim: CAPACITY },
  });
  return { clock, limiter, child: new SimulatedChild(clock) };
}

/** Sends one request through the limiter to the child and records its outcome. */
async function request(
  limiter: AdaptiveLimiter,
  clock: FakeClock,
  child: SimulatedChild,
  priority: Priority,
  tally: Tally,
) {
  const { error } = await outcome(limiter.run(() => child.call(), { priority, child: 'sim' }));
  if (error === undefined) {
    tally.ok[priority] += 1;
    if (priority === 'LOW') tally.lowOkAt.push(clock.now());
    return;
  }
  if (!(error instanceof LimiterRejection)) throw error;
  if (error.code === 'SHED') {
    tally.shed[priority] += 1;
    if (priority === 'NORMAL') tally.shedAt.push(clock.now());
    expect(error.rpcCode).toBe(-32010);
    expect(error.data).toEqual({ retryAfterMs: error.retryAfterMs, priority });
  } else {
    tally.timedOut[priority] += 1;
  }
}

/** Sends `rps` requests per second of each priority, open loop, every 10 ms, until `stop()`. */
function driveOpenLoop(
  setupResult: ReturnType<typeof setup>,
  rates: () => Partial<Record<Priority, number>>,
  tally: Tally,
) {
  const { clock, limiter, child } = setupResult;
  const all: Promise<void>[] = [];
  const carry: Record<string, number> = {};
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    for (const [priority, rps] of Object.entries(rates()) as [Priority, number][]) {
      carry[priority] = (carry[priority] ?? 0) + rps / 100;
      for (; carry[priority]! >= 1; carry[priority]! -= 1) all.push(request(limiter, clock, child, priority, tally));
    }
    clock.setTimeout(tick, 10);
  };
  tick();
  return {
    stop: () => {
      stopped = true;
      return Promise.all(all);
    },
  };
}

/** `count` clients that each keep one request in flight, sending the next as soon as the last is answered. */
function driveClosedLoop(setupResult: ReturnType<typeof setup>, count: number, tally: Tally) {
  const { clock, limiter, child } = setupResult;
  let stopped = false;
  const client = async () => {
    while (!stopped) await request(limiter, clock, child, 'NORMAL', tally);
  };
  const clients = Array.from({ length: count }, client);
  return {
    stop: () => {
      stopped = true;
      return Promise.all(clients);
    },
  };
}

describe('QueueDelay (CoDel)', () => {
  function judge(delay: QueueDelay, clock: { now: number }, waitedMs: number, rank: number): boolean {
    delay.beginScan(clock.now);
    delay.observe(waitedMs, rank);
    return delay.judge();
  }

  it('sheds only after the delay stayed above the target for a whole interval, and a dip below resets it', () => {
    const clock = { now: 0 };
    const delay = new QueueDelay(30_000, clock.now);
    delay.noteServed(clock.now);
    const above = delay.targetMs + 1;
    expect(judge(delay, clock, above, 1)).toBe(false);
    clock.now += delay.intervalMs / 2;
    delay.noteServed(clock.now);
    expect(judge(delay, clock, above, 1)).toBe(false);
    clock.now += delay.intervalMs / 2 - 1;
    expect(judge(delay, clock, above, 1)).toBe(false);
    clock.now += 1;
    expect(judge(delay, clock, above, 1)).toBe(true);
    expect(delay.sheds(0, 0)).toBe(true);
    expect(delay.sheds(1, 0)).toBe(false);
    expect(delay.sheds(1, above)).toBe(true);
    expect(delay.sheds(2, above)).toBe(false);
    // One judgement below the target ends the overload; the next rise waits a whole interval again.
    expect(judge(delay, clock, delay.targetMs, 1)).toBe(false);
    expect(delay.sheds(0, 0)).toBe(false);
    clock.now += delay.intervalMs - 1;
    delay.noteServed(clock.now);
    expect(judge(delay, clock, above, 1)).toBe(false);
  });

  it('stops its clock while the child is not running, and never sheds then', () => {
    const clock = { now: 0 };
    const delay = new QueueDelay(30_000, clock.now);
    clock.now = 1_000;
    const waitedFrom = delay.activeAt(clock.now);
    expect(delay.setRunning(false, clock.now)).toBe(false);
    clock.now += 60_000;
    expect(delay.activeAt(clock.now)).toBe(1_000);
    expect(judge(delay, clock, delay.targetMs * 10, 3)).toBe(false);
    expect(delay.setRunning(true, clock.now)).toBe(true);
    clock.now += 250;
    delay.beginScan(clock.now);
    expect(delay.waited(waitedFrom)).toBe(250);
  });

  it('sets the target to the time the child needs for STANDING_ANSWERS answers, within its bounds', () => {
    const clock = { now: 0 };
    const delay = new QueueDelay(30_000, clock.now);
    expect(delay.targetMs).toBe(30_000 / 4);
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 10; i++) delay.noteServed(clock.now);
      judge(delay, clock, 1, 1);
      clock.now += 100;
    }
    // 100 answers per second: a thousand of them take 10 s, above the quarter of the timeout.
    expect(delay.targetMs).toBe(7_500);
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 50; i++) delay.noteServed(clock.now);
      judge(delay, clock, 1, 1);
      clock.now += 100;
    }
    expect(delay.targetMs).toBeCloseTo((STANDING_ANSWERS * 1000) / 500, -1);
    expect(new QueueDelay(2_000, 0).targetMs).toBe(500);
    expect(TARGET_FLOOR_MS).toBe(1_000);
  });
});

describe('AdaptiveLimiter shedding by queueing delay', () => {
  it('under sustained overload sheds LOW while NORMAL keeps up, then every LOW before any NORMAL', async () => {
    const s = setup();
    const tally = createTally();
    let normalRps = 0.6 * CAPACITY_RPS;
    const load = driveOpenLoop(
      s,
      () => ({ HIGH: 0.1 * CAPACITY_RPS, NORMAL: normalRps, LOW: 1.5 * CAPACITY_RPS }),
      tally,
    );
    await s.clock.advance(10_000);
    // HIGH and NORMAL together fit in what the child answers: only LOW, which waits behind them, is shed.
    expect(tally.shed.LOW).toBeGreaterThan(0);
    expect(tally.shed.NORMAL).toBe(0);
    // The target is the time the child needs for STANDING_ANSWERS answers at the rate it drains its queue.
    const delay = s.limiter.stats().children.sim!;
    expect(delay.targetMs).toBeCloseTo((STANDING_ANSWERS * 1000) / CAPACITY_RPS, -3);
    expect(delay.delayMs).toBeLessThan(2 * delay.targetMs);

    normalRps = 2 * CAPACITY_RPS;
    const lowShedBefore = tally.shed.LOW;
    await s.clock.advance(15_000);
    await settleAll(s.clock, load.stop());
    expect(tally.shed.NORMAL).toBeGreaterThan(0);
    // NORMAL no longer keeps up: LOW is shed, none is served from the first NORMAL shed on, and HIGH never is.
    expect(tally.shed.LOW).toBeGreaterThan(lowShedBefore);
    expect(tally.lowOkAt.filter((at) => at >= tally.shedAt[0]!)).toEqual([]);
    expect(tally.shed.HIGH).toBe(0);
    expect(tally.timedOut).toEqual({ CRITICAL: 0, HIGH: 0, NORMAL: 0, LOW: 0 });
    expect(s.limiter.stats().byPriority.LOW.shed).toBe(tally.shed.LOW);
  });

  it('never sheds hundreds of clients that each keep one request in flight', async () => {
    const s = setup();
    const tally = createTally();
    const clients = driveClosedLoop(s, 500, tally);
    await s.clock.advance(30_000);
    const stats = s.limiter.stats();
    // Each waits for about 500 answers, 2.5 s: a standing queue, but far below the time for STANDING_ANSWERS.
    expect(stats.children.sim!.delayMs).toBeGreaterThan(2_000);
    expect(stats.shed).toBe(0);
    await settleAll(s.clock, clients.stop());
    expect(tally.ok.NORMAL).toBeGreaterThan(0.9 * 30 * CAPACITY_RPS);
    expect(tally.shed.NORMAL + tally.timedOut.NORMAL).toBe(0);
  });

  it('sheds nothing for a burst that drains, however long the queue', async () => {
    const s = setup();
    const tally = createTally();
    const burst = Array.from({ length: STANDING_ANSWERS - 10 }, () =>
      request(s.limiter, s.clock, s.child, 'LOW', tally),
    );
    expect(s.limiter.stats().queued).toBe(STANDING_ANSWERS - 10 - CAPACITY);
    await s.clock.advance(10_000);
    await Promise.all(burst);
    expect(tally.ok.LOW).toBe(STANDING_ANSWERS - 10);
    expect(s.limiter.stats().shed).toBe(0);
  });

  it('sheds nothing while the child restarts: waiting for it is not overload', async () => {
    const s = setup();
    const tally = createTally();
    const clients = driveClosedLoop(s, 300, tally);
    await s.clock.advance(5_000);
    for (let restart = 0; restart < 3; restart++) {
      s.child.stop();
      s.limiter.noteChildState('sim', false);
      await s.clock.advance(20_000);
      expect(s.limiter.stats().children.sim!.delayMs).toBeLessThan(TARGET_FLOOR_MS * 2);
      s.child.start();
      s.limiter.noteChildState('sim', true);
      await s.clock.advance(5_000);
    }
    await settleAll(s.clock, clients.stop());
    expect(tally.shed.NORMAL).toBe(0);
    expect(tally.timedOut.NORMAL).toBe(0);
    expect(tally.ok.NORMAL).toBeGreaterThan(0.9 * 20 * CAPACITY_RPS);
  });

  it('sheds nothing while the child answers nothing at all: its requests time out instead', async () => {
    const s = setup(4_000);
    const tally = createTally();
    s.child.stop();
    const waiting = Array.from({ length: 50 }, () => request(s.limiter, s.clock, s.child, 'LOW', tally));
    await s.clock.advance(5_000);
    await Promise.all(waiting);
    expect(tally.shed.LOW).toBe(0);
    expect(tally.timedOut.LOW).toBe(50);
    expect(s.limiter.stats().byPriority.LOW).toMatchObject({ queued: 0, running: 0, shed: 0, timedOut: 50 });
  });
});

import { describe, expect, it } from 'vitest';
import {
  type AdaptiveLimiter,
  type LimiterOptions,
  LimiterRejection,
  type Priority,
} from '../../../src/limiter/index.js';
import { createTestLimiter, deferred, outcome, settle } from './fake-clock.js';

/** A limiter on fake time whose rate never binds, so only priorities, queue and windows decide. */
function createLimiter(options: LimiterOptions = {}) {
  return createTestLimiter({ initialRps: 1e6, maxRps: 1e6, ...options });
}

/** Starts a request whose task logs its start and then waits for `gate`. */
function submit(
  limiter: AdaptiveLimiter,
  started: string[],
  name: string,
  priority: Priority,
  gate: Promise<void> = Promise.resolve(),
  child = 'memory',
) {
  return limiter.run(
    async () => {
      started.push(name);
      await gate;
      return name;
    },
    { priority, child },
  );
}

describe('AdaptiveLimiter scheduling', () => {
  it('runs queued requests CRITICAL, HIGH, NORMAL, LOW, and FIFO within a priority', async () => {
    const { limiter } = createLimiter({ maxConcurrency: 1 });
    const started: string[] = [];
    const blocker = deferred();
    const all = [submit(limiter, started, 'blocker', 'NORMAL', blocker.promise)];
    for (const [name, priority] of [
      ['low1', 'LOW'],
      ['normal1', 'NORMAL'],
      ['high1', 'HIGH'],
      ['critical1', 'CRITICAL'],
      ['low2', 'LOW'],
      ['high2', 'HIGH'],
      ['normal2', 'NORMAL'],
      ['critical2', 'CRITICAL'],
    ] as const) {
      all.push(submit(limiter, started, name, priority));
    }
    await settle();
    expect(started).toEqual(['blocker']);
    expect(limiter.stats()).toMatchObject({ queued: 8, running: 1 });
    expect(limiter.stats().byPriority.LOW.queued).toBe(2);
    blocker.resolve();
    expect(await Promise.all(all)).toHaveLength(9);
    expect(started).toEqual([
      'blocker',
      'critical1',
      'critical2',
      'high1',
      'high2',
      'normal1',
      'normal2',
      'low1',
      'low2',
    ]);
  });

  it('sheds the newest LOW first, then NORMAL, lets higher arrivals evict lower ones, and sheds lower arrivals', async () => {
    const { limiter } = createLimiter({ maxConcurrency: 1, maxQueue: 4 });
    const started: string[] = [];
    const blocker = deferred();
    const results = new Map<string, Promise<{ ok?: unknown; error?: unknown }>>();
    const add = (name: string, priority: Priority) =>
      results.set(name, outcome(submit(limiter, started, name, priority)));
    results.set('blocker', outcome(submit(limiter, started, 'blocker', 'NORMAL', blocker.promise)));
    add('normal1', 'NORMAL');
    add('low1', 'LOW');
    add('low2', 'LOW');
    add('high1', 'HIGH'); // queue full: normal1 low1 low2 high1
    add('low3', 'LOW'); // a LOW arrival into a full queue whose lowest is LOW is itself the newest LOW: shed
    add('normal2', 'NORMAL'); // evicts low2, the newest LOW
    add('critical1', 'CRITICAL'); // evicts low1
    add('high2', 'HIGH'); // no LOW left: evicts normal2, the newest NORMAL
    add('normal3', 'NORMAL'); // the lowest queued is NORMAL: the arrival is shed
    add('critical2', 'CRITICAL'); // evicts normal1
    add('critical3', 'CRITICAL'); // evicts high2, the newest HIGH
    add('high3', 'HIGH'); // lowest queued is HIGH (high1): shed
    add('critical4', 'CRITICAL'); // evicts high1
    add('critical5', 'CRITICAL'); // a full queue of CRITICAL: only an equal arrival is shed, never a queued CRITICAL
    await settle();

    const shed = ['low3', 'low2', 'low1', 'normal2', 'normal3', 'normal1', 'high2', 'high3', 'high1', 'critical5'];
    for (const name of shed) {
      const { error } = await results.get(name)!;
      expect(error, name).toBeInstanceOf(LimiterRejection);
      const rejection = error as LimiterRejection;
      expect(rejection.code).toBe('SHED');
      expect(rejection.rpcCode).toBe(-32010);
      expect(rejection.retryAfterMs).toBeGreaterThan(0);
      expect(rejection.data).toEqual({ retryAfterMs: rejection.retryAfterMs, priority: rejection.priority });
      expect(name.toUpperCase().startsWith(rejection.priority)).toBe(true);
    }
    const stats = limiter.stats();
    expect(stats.shed).toBe(shed.length);
    expect(stats.peakQueued).toBe(4);
    expect(stats.byPriority).toEqual({
      CRITICAL: { queued: 4, running: 0, shed: 1, timedOut: 0 },
      HIGH: { queued: 0, running: 0, shed: 3, timedOut: 0 },
      // The blocker runs.
      NORMAL: { queued: 0, running: 1, shed: 3, timedOut: 0 },
      LOW: { queued: 0, running: 0, shed: 3, timedOut: 0 },
    });
    blocker.resolve();
    for (const name of ['critical1', 'critical2', 'critical3', 'critical4']) {
      expect((await results.get(name)!).ok).toBe(name);
    }
    expect(started).toEqual(['blocker', 'critical1', 'critical2', 'critical3', 'critical4']);
  });

  it('does not shed a request that can start at once, even with a full queue of another child', async () => {
    const { limiter } = createLimiter({ maxQueue: 2, childConcurrency: { python: 1 } });
    const started: string[] = [];
    const gate = deferred();
    const python = ['p1', 'p2', 'p3'].map((name) =>
      outcome(submit(limiter, started, name, 'NORMAL', gate.promise, 'python')),
    );
    await settle();
    expect(limiter.stats()).toMatchObject({ queued: 2, running: 1 });
    const memory = await outcome(submit(limiter, started, 'm1', 'LOW', Promise.resolve(), 'memory'));
    expect(memory.ok).toBe('m1');
    const lowPython = await outcome(submit(limiter, started, 'p4', 'LOW', Promise.resolve(), 'python'));
    expect((lowPython.error as LimiterRejection).code).toBe('SHED');
    gate.resolve();
    expect((await Promise.all(python)).map((o) => o.ok)).toEqual(['p1', 'p2', 'p3']);
  });

  it('caps each child at its configured concurrency without blocking other children', async () => {
    const { limiter } = createLimiter({ childConcurrency: { python: 2 } });
    const started: string[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    const python = gates.map((gate, i) => submit(limiter, started, `p${i}`, 'NORMAL', gate.promise, 'python'));
    const fast = deferred();
    const memory = [
      submit(limiter, started, 'm0', 'LOW', fast.promise),
      submit(limiter, started, 'm1', 'LOW', fast.promise),
    ];
    await settle();
    expect(started).toEqual(['p0', 'p1', 'm0', 'm1']);
    const stats = limiter.stats();
    expect(stats.children.python).toMatchObject({ window: 2, running: 2, queued: 3 });
    expect(stats.children.memory).toMatchObject({ running: 2, queued: 0 });
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual(['p0', 'p1', 'm0', 'm1', 'p2']);
    expect(limiter.stats().children.python).toMatchObject({ running: 2, queued: 2 });
    for (const gate of gates) gate.resolve();
    fast.resolve();
    expect(await Promise.all([...python, ...memory])).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'm0', 'm1']);
  });

  it('caps all children together at maxConcurrency', async () => {
    const { limiter } = createLimiter({ maxConcurrency: 3 });
    const started: string[] = [];
    const gate = deferred();
    const all = ['a', 'b', 'c', 'd', 'e'].map((name, i) =>
      submit(limiter, started, name, 'NORMAL', gate.promise, i % 2 ? 'memory' : 'git'),
    );
    await settle();
    expect(limiter.stats()).toMatchObject({ running: 3, queued: 2, concurrency: 3 });
    gate.resolve();
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('passes a task failure through unchanged', async () => {
    const { limiter } = createLimiter();
    const failure = new Error('child said no');
    await expect(limiter.run(() => Promise.reject(failure), { priority: 'NORMAL', child: 'memory' })).rejects.toBe(
      failure,
    );
    const thrown = new Error('thrown before any await');
    const sync = () => {
      throw thrown;
    };
    await expect(limiter.run(sync, { priority: 'HIGH', child: 'memory' })).rejects.toBe(thrown);
    expect(limiter.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('rejects an unknown priority', async () => {
    const { limiter } = createLimiter();
    const run = limiter.run(async () => 1, { priority: 'URGENT' as Priority, child: 'memory' });
    await expect(run).rejects.toThrow('Expected `priority` to be one of CRITICAL, HIGH, NORMAL, LOW, got `URGENT`');
  });

  it('close() rejects queued requests with a clear error, lets running ones finish, and is idempotent', async () => {
    const { clock, limiter } = createLimiter({ maxConcurrency: 1 });
    const started: string[] = [];
    const blocker = deferred();
    const running = submit(limiter, started, 'running', 'NORMAL', blocker.promise);
    const queued = [outcome(submit(limiter, started, 'q1', 'HIGH')), outcome(submit(limiter, started, 'q2', 'LOW'))];
    await settle();
    limiter.close();
    limiter.close();
    for (const result of await Promise.all(queued)) {
      expect(result.error).toMatchObject({ code: 'LIMITER_CLOSED' });
      expect(String((result.error as Error).message)).toMatch(/closed before this request could run/);
    }
    await expect(submit(limiter, started, 'late', 'CRITICAL')).rejects.toMatchObject({ code: 'LIMITER_CLOSED' });
    blocker.resolve();
    expect(await running).toBe('running');
    expect(started).toEqual(['running']);
    expect(limiter.stats()).toMatchObject({ queued: 0, running: 0 });
    await clock.advance(60_000);
    expect(clock.pendingTimers).toBe(0);
  });
});

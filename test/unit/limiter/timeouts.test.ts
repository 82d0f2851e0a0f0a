import { describe, expect, it } from 'vitest';
import { type LimiterOptions, LimiterRejection } from '../../../src/limiter/index.js';
import { Cancellation } from '../../../src/protocol/index.js';
import { createTestLimiter, deferred, outcome, settle } from './fake-clock.js';

function createLimiter(options: LimiterOptions = {}) {
  return createTestLimiter({ initialRps: 1e6, maxRps: 1e6, timeoutMs: 1_000, maxTimeoutMs: 5_000, ...options });
}

describe('AdaptiveLimiter timeouts', () => {
  it('times out a request while it is queued: it never starts and the next one takes its turn', async () => {
    const { clock, limiter } = createLimiter({ maxConcurrency: 1 });
    const blocker = deferred();
    let blockerSignal: Cancellation | undefined;
    const running = limiter.run(
      (signal) => {
        blockerSignal = signal;
        return blocker.promise;
      },
      { priority: 'NORMAL', child: 'memory', timeoutMs: 5_000 },
    );
    let queuedStarted = false;
    const queued = outcome(
      limiter.run(
        async () => {
          queuedStarted = true;
        },
        { priority: 'HIGH', child: 'memory' },
      ),
    );
    await clock.advance(999);
    expect(limiter.stats()).toMatchObject({ queued: 1, timedOut: 0 });
    await clock.advance(1);
    const { error } = await queued;
    expect(error).toBeInstanceOf(LimiterRejection);
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 1_000, priority: 'HIGH', rpcCode: -32001 });
    expect((error as LimiterRejection).data).toEqual({ timeoutMs: 1_000 });
    expect(queuedStarted).toBe(false);
    expect(blockerSignal?.aborted).toBe(false);
    expect(limiter.stats()).toMatchObject({ queued: 0, running: 1, timedOut: 1 });
    blocker.resolve();
    await running;
  });

  it('times out a running request: cancels it and rejects at once, before the task settles', async () => {
    const { clock, limiter } = createLimiter({ childConcurrency: { python: 1 } });
    let signal: Cancellation | undefined;
    const task = deferred<string>();
    const running = outcome(
      limiter.run(
        (s) => {
          signal = s;
          return task.promise;
        },
        { priority: 'CRITICAL', child: 'python' },
      ),
    );
    let nextStarted = false;
    const next = limiter.run(
      async () => {
        nextStarted = true;
        return 'next';
      },
      { priority: 'NORMAL', child: 'python', timeoutMs: 5_000 },
    );
    await settle();
    expect(signal?.aborted).toBe(false);
    await clock.advance(1_000);
    const { error } = await running;
    expect(error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 1_000 });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(error);
    expect(limiter.stats()).toMatchObject({ running: 0, timedOut: 1 });
    // The child still holds the timed-out request until it acts on the cancellation.
    expect(nextStarted).toBe(false);
    expect(limiter.stats().children.python).toMatchObject({ running: 1, queued: 1 });
    task.resolve('too late');
    expect(await next).toBe('next');
    expect(limiter.stats()).toMatchObject({ running: 0, timedOut: 1 });
  });

  it('applies a per-request override, capped at maxTimeoutMs', async () => {
    const { clock, limiter } = createLimiter();
    const forever = () => new Promise<never>(() => {});
    const short = outcome(limiter.run(forever, { priority: 'LOW', child: 'a', timeoutMs: 200 }));
    const capped = outcome(limiter.run(forever, { priority: 'LOW', child: 'a', timeoutMs: 60_000 }));
    const invalid = outcome(limiter.run(forever, { priority: 'LOW', child: 'a', timeoutMs: -5 }));
    await clock.advance(200);
    expect((await short).error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 200 });
    await clock.advance(800);
    expect((await invalid).error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 1_000 });
    await clock.advance(3_999);
    expect(limiter.stats().timedOut).toBe(2);
    await clock.advance(1);
    expect((await capped).error).toMatchObject({ code: 'TIMEOUT', timeoutMs: 5_000 });
    expect(limiter.stats().timedOut).toBe(3);
  });

  it('uses one deadline timer (plus the liveness sweep) for many requests, and none once they finish in time', async () => {
    const { clock, limiter } = createLimiter({ sampleIntervalMs: 60_000, maxQueue: 200 });
    const before = clock.pendingTimers;
    const tasks = Array.from({ length: 100 }, () => deferred());
    const runs = tasks.map((task) => limiter.run(() => task.promise, { priority: 'NORMAL', child: 'a' }));
    await settle();
    expect(clock.pendingTimers).toBe(before + 2);
    for (const task of tasks) task.resolve();
    await Promise.all(runs);
    await clock.advance(1_000);
    expect(limiter.stats().timedOut).toBe(0);
    expect(clock.pendingTimers).toBe(before);
  });

  it("uses the caller's cancellation: cancels it on timeout, and drops a request cancelled while queued", async () => {
    const { clock, limiter } = createLimiter({ maxConcurrency: 1 });
    const running = new Cancellation();
    let seen: Cancellation | undefined;
    const first = outcome(
      limiter.run(
        (cancellation) => {
          seen = cancellation;
          return new Promise<never>((_resolve, reject) => cancellation.onAbort(reject));
        },
        { priority: 'NORMAL', child: 'memory', cancellation: running },
      ),
    );
    const cancelled = new Cancellation();
    let cancelledStarted = false;
    const second = outcome(
      limiter.run(
        async () => {
          cancelledStarted = true;
        },
        { priority: 'NORMAL', child: 'memory', cancellation: cancelled, timeoutMs: 5_000 },
      ),
    );
    await settle();
    expect(seen).toBe(running);
    cancelled.abort(new Error('cancelled by the client'));
    await clock.advance(1_000);
    expect((await first).error).toMatchObject({ code: 'TIMEOUT' });
    expect(running.aborted).toBe(true);
    expect((await second).error).toMatchObject({ message: 'cancelled by the client' });
    expect(cancelledStarted).toBe(false);
  });
});

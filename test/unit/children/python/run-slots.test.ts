import { describe, expect, it } from 'vitest';
import { RunSlots } from '../../../../src/children/python/run-slots.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('RunSlots', () => {
  it('runs at most `max` bodies at once and starts waiting ones in order', async () => {
    const slots = new RunSlots(1, 5);
    const order: string[] = [];
    const first = deferred();
    const a = slots.use(async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
    });
    const b = slots.use(async () => {
      order.push('b');
    });
    await Promise.resolve();
    expect(order).toEqual(['a start']);
    first.resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('refuses callers beyond the waiting room, and lets a waiting caller cancel', async () => {
    const slots = new RunSlots(1, 1);
    const hold = deferred();
    const running = slots.use(() => hold.promise);
    const controller = new AbortController();
    const waiting = slots.use(async () => 'never', controller.signal);
    await expect(slots.use(async () => 'x')).rejects.toThrow('Too many runs: 1 are running and 1 are waiting');
    controller.abort();
    await expect(waiting).rejects.toThrow('cancelled before it started');
    hold.resolve();
    await running;
    await expect(slots.use(async () => 'free again')).resolves.toBe('free again');
  });

  it('gives each running body its own slot number and hands a freed one to the next caller', async () => {
    const slots = new RunSlots(2, 5);
    const holds = [deferred(), deferred()];
    const seen: number[] = [];
    const running = holds.map((hold) =>
      slots.use(async (slot) => {
        seen.push(slot);
        await hold.promise;
      }),
    );
    const next = slots.use(async (slot) => slot);
    await Promise.resolve();
    expect(seen).toEqual([0, 1]);
    holds[1]?.resolve();
    expect(await next).toBe(1);
    holds[0]?.resolve();
    await Promise.all(running);
    const again = await Promise.all([slots.use(async (slot) => slot), slots.use(async (slot) => slot)]);
    expect(again.sort()).toEqual([0, 1]);
  });

  it('tells when no run holds a slot any more', async () => {
    const slots = new RunSlots(2, 5);
    await slots.idle();
    const holds = [deferred(), deferred()];
    const running = holds.map((hold) => slots.use(() => hold.promise));
    let idle = false;
    const waiting = slots.idle().then(() => {
      idle = true;
    });
    holds[0]?.resolve();
    await running[0];
    expect(idle).toBe(false);
    holds[1]?.resolve();
    await waiting;
    expect(idle).toBe(true);
  });

  it('refuses bad sizes', () => {
    expect(() => new RunSlots(0, 1)).toThrow('Expected `max` to be an integer >= 1, got `0`');
    expect(() => new RunSlots(1, -1)).toThrow('Expected `maxWaiting` to be an integer >= 0, got `-1`');
  });
});

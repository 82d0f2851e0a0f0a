import { afterEach } from 'vitest';
import { AdaptiveLimiter, type LimiterClock, type LimiterOptions } from '../../../src/limiter/index.js';

/** The wall-clock instant fake time starts at (2026-01-01T00:00:00Z). */
export const FAKE_EPOCH_MS = Date.UTC(2026, 0, 1);

interface FakeTimer {
  at: number;
  fn: () => void;
}

/** A manual clock for the limiter and the child state machine: time moves only through `advance`, which fires due timers in order. */
export class FakeClock implements LimiterClock {
  #now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, FakeTimer>();

  now(): number {
    return this.#now;
  }

  /** Wall time moves with `now`, from a fixed instant, so timestamps in tests are reproducible. */
  wallNow(): number {
    return FAKE_EPOCH_MS + this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: FakeTimer | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && (next === undefined || timer.at < next.at)) {
          nextId = id;
          next = timer;
        }
      }
      if (next === undefined || nextId === undefined) break;
      this.#timers.delete(nextId);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets every pending promise callback run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve and reject exposed. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A health probe reading whatever `health.current` holds. */
export function createStubHealth() {
  const health = {
    current: { eventLoopDelayMs: 0, cpu: 0.1, memory: 0.2 },
    probe: () => health.current,
  };
  return health;
}

/** What a promise settled to, without throwing: `{ ok: value }` or `{ error }`. */
export async function outcome<T>(promise: Promise<T>): Promise<{ ok?: T; error?: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

const openLimiters: AdaptiveLimiter[] = [];
afterEach(() => {
  for (const limiter of openLimiters.splice(0)) limiter.close();
});

/** A limiter on a fresh fake clock with a stub health probe (`options` win), closed after the test. */
export function createTestLimiter(options: LimiterOptions = {}) {
  const clock = new FakeClock();
  const health = createStubHealth();
  const limiter = new AdaptiveLimiter({ clock, healthProbe: health.probe, ...options });
  openLimiters.push(limiter);
  return { clock, health, limiter };
}

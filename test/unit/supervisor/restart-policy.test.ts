import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../../src/supervisor/index.js';

describe('RestartPolicy', () => {
  it('backs off 100 ms ×1.5 and goes FATAL at the fifth failure within 60 s', () => {
    const policy = new RestartPolicy();
    const decisions = [0, 1, 2, 3, 4].map((i) => policy.recordExit(i * 1000, 0));
    expect(decisions.slice(0, 4)).toEqual([
      { action: 'restart', delayMs: 100 },
      { action: 'restart', delayMs: 150 },
      { action: 'restart', delayMs: 225 },
      { action: 'restart', delayMs: 338 },
    ]);
    expect(decisions[4]).toEqual({ action: 'fatal', failures: 5 });
  });

  it('caps the delay at 15 s and forgets failures older than 60 s', () => {
    const policy = new RestartPolicy();
    let last = { action: 'restart', delayMs: 0 } as ReturnType<RestartPolicy['recordExit']>;
    for (let i = 0; i < 20; i++) last = policy.recordExit(i * 61_000, 0);
    expect(last).toEqual({ action: 'restart', delayMs: 15_000 });
  });

  it('restarts a child killed after it ran a while, however often, without making it FATAL', () => {
    const policy = new RestartPolicy();
    const decisions = Array.from({ length: 10 }, (_, i) => policy.recordExit(i * 2000, 1500));
    expect(decisions.every((d) => d.action === 'restart')).toBe(true);
    expect(policy.recordExit(21_000, 0)).toEqual({ action: 'restart', delayMs: Math.round(100 * 1.5 ** 10) });
  });

  it('resets the backoff after 30 s of stable running', () => {
    const policy = new RestartPolicy();
    policy.recordExit(0, 0);
    policy.recordExit(1000, 0);
    expect(policy.recordExit(40_000, 30_000)).toEqual({ action: 'restart', delayMs: 100 });
  });
});

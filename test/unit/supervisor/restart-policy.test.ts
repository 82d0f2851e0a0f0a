import { describe, expect, it } from 'vitest';
import { type RestartDecision, RestartPolicy } from '../../../src/supervisor/restart-policy.js';
import { FakeClock } from '../limiter/fake-clock.js';

/** A policy on fake time: `exitAt(t, ranMs)` records an exit at `t` ms. */
function policyOnFakeTime() {
  const clock = new FakeClock();
  const policy = new RestartPolicy(clock);
  const exitAt = async (t: number, ranMs: number): Promise<RestartDecision> => {
    await clock.advance(t - clock.now());
    return policy.recordExit(ranMs);
  };
  return { policy, exitAt };
}

describe('RestartPolicy', () => {
  it('backs off 100 ms ×1.5 and goes FATAL at the fifth failure within 60 s', async () => {
    const { exitAt } = policyOnFakeTime();
    const decisions: RestartDecision[] = [];
    for (const i of [0, 1, 2, 3, 4]) decisions.push(await exitAt(i * 1000, 0));
    expect(decisions.slice(0, 4)).toEqual([
      { action: 'restart', delayMs: 100 },
      { action: 'restart', delayMs: 150 },
      { action: 'restart', delayMs: 225 },
      { action: 'restart', delayMs: 338 },
    ]);
    expect(decisions[4]).toEqual({ action: 'fatal', failures: 5 });
  });

  it('caps the delay at 15 s and forgets failures older than 60 s', async () => {
    const { exitAt } = policyOnFakeTime();
    let last: RestartDecision = { action: 'restart', delayMs: 0 };
    for (let i = 0; i < 20; i++) last = await exitAt(i * 61_000, 0);
    expect(last).toEqual({ action: 'restart', delayMs: 15_000 });
  });

  it('restarts a child killed after it ran a while, however often, without making it FATAL', async () => {
    const { exitAt } = policyOnFakeTime();
    const decisions: RestartDecision[] = [];
    for (let i = 0; i < 10; i++) decisions.push(await exitAt(i * 2000, 1500));
    expect(decisions.every((d) => d.action === 'restart')).toBe(true);
    expect(await exitAt(21_000, 0)).toEqual({ action: 'restart', delayMs: Math.round(100 * 1.5 ** 10) });
  });

  it('resets the backoff after 30 s of stable running', async () => {
    const { exitAt } = policyOnFakeTime();
    await exitAt(0, 0);
    await exitAt(1000, 0);
    expect(await exitAt(40_000, 30_000)).toEqual({ action: 'restart', delayMs: 100 });
  });

  it('forgets everything on reset (`omnimind start <child>` clears FATAL)', async () => {
    const { policy, exitAt } = policyOnFakeTime();
    for (const i of [0, 1, 2, 3]) await exitAt(i * 100, 0);
    policy.reset();
    expect(await exitAt(500, 0)).toEqual({ action: 'restart', delayMs: 100 });
  });
});

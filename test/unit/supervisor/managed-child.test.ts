import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildSpec } from '../../../src/config/index.js';
import type { ChildState } from '../../../src/gateway/index.js';
import { ManagedChild } from '../../../src/supervisor/managed-child.js';
import { FakeClock } from '../limiter/fake-clock.js';

/** The fixture MCP server: real processes, while every timer of the state machine runs on the fake clock. */
const FIXTURE = resolve(import.meta.dirname, '..', '..', 'fixtures', 'children', 'fixture-server.mjs');
/** Real processes start in real time; on a loaded machine that can take a while. */
const REAL_WAIT_MS = 30_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  child: ManagedChild;
  clock: FakeClock;
  logs: string[];
  busy: { now: boolean };
  /** Every state the child entered, in order, with the reason a failed start on demand gave. */
  states: Array<{ state: ChildState; reason?: string }>;
}

function createChild(flags: string[], options: Record<string, unknown> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'om-mc-'));
  const clock = new FakeClock();
  const logs: string[] = [];
  const busy = { now: false };
  const spec: ChildSpec = {
    name: 'fx',
    builtin: false,
    command: process.execPath,
    args: [FIXTURE, ...flags],
    env: {},
    cwd: dir,
    enabled: true,
    startTimeoutMs: 10_000,
    stopTimeoutMs: 4_000,
    options,
  };
  const note = (message: string) => logs.push(message);
  const child = new ManagedChild(spec, {
    logsDir: dir,
    logger: { error: note, warn: note, info: note, debug: note },
    // Pings would need real answers within fake intervals: far apart, they never fire here.
    health: { pingIntervalMs: 1e9, maxMissedPings: 3 },
    env: { PATH: process.env.PATH ?? '' },
    clock,
    isBusy: () => busy.now,
  });
  const states: Harness['states'] = [];
  child.on('state', (state: ChildState, _previous: ChildState, reason?: string) => states.push({ state, reason }));
  cleanups.push(async () => {
    await child.stop(1_000).catch(() => {});
    child.log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { child, clock, logs, busy, states };
}

/** Waits (on events, in real time) until the child is in `state`. */
async function reach(child: ManagedChild, state: ChildState): Promise<void> {
  const signal = AbortSignal.timeout(REAL_WAIT_MS);
  while (child.state !== state) {
    await once(child, 'state', { signal });
  }
}

/** Waits until the child's process is gone (an idle stop enters IDLE at once and ends the process after). */
async function processGone(child: ManagedChild): Promise<void> {
  const deadline = Date.now() + REAL_WAIT_MS;
  while (child.pid !== null) {
    if (Date.now() > deadline) throw new Error('the process did not exit');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function delays(logs: string[]): number[] {
  return logs.flatMap((line) => {
    const match = /restarting in (\d+) ms/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

describe('ManagedChild on fake time', () => {
  it('backs off 100 ms ×1.5 between failed starts and is FATAL after the fifth within 60 s', async () => {
    const { child, clock, logs } = createChild(['--crash-on-start']);
    child.start();
    for (const delay of [100, 150, 225, 338]) {
      await reach(child, 'BACKOFF');
      expect(delays(logs).at(-1)).toBe(delay);
      // One ms short of the delay nothing happens; at the delay the next start begins.
      await clock.advance(delay - 1);
      expect(child.state).toBe('BACKOFF');
      await clock.advance(1);
      expect(child.state).toBe('STARTING');
    }
    await reach(child, 'FATAL');
    expect(delays(logs)).toEqual([100, 150, 225, 338]);
    expect(child.restarts).toBe(4);
    expect(logs.some((l) => l.includes('failed 5 times within 60 s and is FATAL'))).toBe(true);
  });

  it('resets the backoff once the child ran 30 s without a crash', async () => {
    const { child, clock, logs } = createChild(['--crash-after=1']);
    const crashAfterRunning = async (ms: number) => {
      await reach(child, 'RUNNING');
      await clock.advance(ms);
      child.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } });
      await reach(child, 'BACKOFF');
      const delay = delays(logs).at(-1)!;
      await clock.advance(delay);
      return delay;
    };
    child.start();
    expect(await crashAfterRunning(2_000)).toBe(100);
    expect(await crashAfterRunning(2_000)).toBe(150);
    expect(await crashAfterRunning(30_000)).toBe(100);
    await reach(child, 'RUNNING');
  });

  it('waits IDLE without a process until a request demands it (on-demand start)', async () => {
    const { child, clock } = createChild([], { start: 'on-demand' });
    child.boot();
    expect(child.state).toBe('IDLE');
    expect(child.pid).toBeNull();
    await clock.advance(120_000);
    expect(child.state).toBe('IDLE');
    child.demand();
    await reach(child, 'RUNNING');
    expect(child.pid).not.toBeNull();
  });

  it('stops after idleStopSeconds without clients or requests, never while busy, and starts again on demand', async () => {
    const { child, clock, busy, logs } = createChild([], { idleStopSeconds: 5 });
    child.boot();
    await reach(child, 'RUNNING');
    const firstPid = child.pid;
    busy.now = true;
    await clock.advance(60_000);
    expect(child.state).toBe('RUNNING');
    busy.now = false;
    await clock.advance(4_000);
    expect(child.state).toBe('RUNNING');
    // Quiet is counted from the first check that saw no clients and no requests: at most one check later.
    await clock.advance(2_000);
    expect(child.state).toBe('IDLE');
    expect(logs.some((l) => l.includes('had no clients or requests for 5 s'))).toBe(true);
    await processGone(child);
    child.demand();
    await reach(child, 'RUNNING');
    expect(child.pid).not.toBe(firstPid);
    expect(child.restarts).toBe(0);
  });

  it('is not stopped by the idle timer while a request is in flight that began during the quiet period', async () => {
    const { child, clock, busy } = createChild([], { idleStopSeconds: 2 });
    child.boot();
    await reach(child, 'RUNNING');
    await clock.advance(1_000);
    busy.now = true;
    await clock.advance(10_000);
    expect(child.state).toBe('RUNNING');
    busy.now = false;
    await clock.advance(3_000);
    expect(child.state).toBe('IDLE');
  });

  it('answers a failed start on demand with the reason, back to IDLE, and goes FATAL by the usual rule', async () => {
    const { child, states } = createChild(['--crash-on-start'], { start: 'on-demand' });
    child.boot();
    for (let attempt = 1; attempt <= 4; attempt++) {
      child.demand();
      await reach(child, 'IDLE');
      const last = states.at(-1)!;
      expect(last).toEqual({ state: 'IDLE', reason: 'exited with code 1' });
    }
    child.demand();
    await reach(child, 'FATAL');
    expect(child.lastExit?.reason).toBe('crashed');
    // Bringing the fleet back as configured clears FATAL and leaves the child IDLE with a fresh start budget.
    child.boot();
    expect(child.state).toBe('IDLE');
    child.demand();
    await reach(child, 'IDLE');
    expect(states.at(-1)).toEqual({ state: 'IDLE', reason: 'exited with code 1' });
  });

  it('takes a new idleStopSeconds on a reload without a restart', async () => {
    const { child, clock } = createChild([]);
    child.boot();
    await reach(child, 'RUNNING');
    const pid = child.pid;
    await clock.advance(60_000);
    expect(child.state).toBe('RUNNING');
    child.updateLifecycle({ ...child.spec, options: { idleStopSeconds: 1 } });
    expect(child.pid).toBe(pid);
    await clock.advance(3_000);
    expect(child.state).toBe('IDLE');
  });
});

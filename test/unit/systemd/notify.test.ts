import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createNotifier,
  type IntervalTimers,
  type Notifier,
  type NotifyTransportName,
  startWatchdog,
} from '../../../src/systemd/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-notify-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function collectingLogger(): { warnings: string[]; warn(message: string): void } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message) };
}

describe('createNotifier', () => {
  it('is undefined when systemd did not ask for notifications', () => {
    expect(createNotifier({ PATH: process.env.PATH })).toBeUndefined();
    expect(createNotifier({ NOTIFY_SOCKET: '' })).toBeUndefined();
  });

  it('removes NOTIFY_SOCKET so children cannot speak for the service', async () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: join(dir, 'notify'), PATH: process.env.PATH };
    const notifier = createNotifier(env, { logger: collectingLogger() });
    expect(notifier).toBeDefined();
    expect(env.NOTIFY_SOCKET).toBeUndefined();
    await notifier?.close();
  });

  it('uses python3 when it is on PATH and systemd-notify otherwise', async () => {
    symlinkSync('/usr/bin/systemd-notify', join(dir, 'systemd-notify'));
    const withPython = createNotifier({ NOTIFY_SOCKET: join(dir, 'notify'), PATH: process.env.PATH });
    const withoutPython = createNotifier({ NOTIFY_SOCKET: join(dir, 'notify'), PATH: dir });
    expect(withPython?.transport).toBe('python3');
    expect(withoutPython?.transport).toBe('systemd-notify');
    await withPython?.close();
    await withoutPython?.close();
  });

  it('refuses a socket address it cannot reach, saying so once', () => {
    const logger = collectingLogger();
    expect(createNotifier({ NOTIFY_SOCKET: 'vsock:2:1234' }, { logger })).toBeUndefined();
    expect(logger.warnings).toEqual([
      'Cannot notify systemd (vsock:2:1234): only filesystem and abstract unix sockets are supported.',
    ]);
  });

  for (const transport of ['python3', 'systemd-notify'] as NotifyTransportName[]) {
    it(`never throws and logs a failure to notify once (${transport})`, async () => {
      const logger = collectingLogger();
      const socket = join(dir, 'nobody-listens');
      const notifier = createNotifier({ NOTIFY_SOCKET: socket, PATH: process.env.PATH }, { transport, logger });
      if (notifier === undefined) throw new Error('no notifier');
      await notifier.ready('up');
      await notifier.status('busy');
      await notifier.watchdog();
      await notifier.stopping();
      await notifier.close();
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]).toContain(`Cannot notify systemd (${socket})`);
    });
  }

  it('reports a helper that cannot start, and ignores calls after close', async () => {
    const logger = collectingLogger();
    const notifier = createNotifier(
      { NOTIFY_SOCKET: join(dir, 'notify'), PATH: dir },
      { transport: 'python3', logger },
    );
    if (notifier === undefined) throw new Error('no notifier');
    await notifier.ready();
    await notifier.close();
    await notifier.close();
    await notifier.watchdog();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/cannot run python3: .*ENOENT/);
  });
});

/** Timers the test fires by hand. */
function manualTimers(): IntervalTimers & { callback?: () => void; ms?: number; cleared: boolean } {
  const timers: IntervalTimers & { callback?: () => void; ms?: number; cleared: boolean } = {
    cleared: false,
    setInterval: (callback, ms) => {
      timers.callback = callback;
      timers.ms = ms;
      return 'handle';
    },
    clearInterval: (handle) => {
      if (handle === 'handle') timers.cleared = true;
    },
  };
  return timers;
}

/** A notifier that counts what it was asked to send. */
function countingNotifier(): Notifier & { pings: number } {
  const notifier = {
    transport: 'python3' as const,
    pings: 0,
    ready: async () => {},
    status: async () => {},
    stopping: async () => {},
    watchdog: async () => {
      notifier.pings += 1;
    },
    close: async () => {},
  };
  return notifier;
}

describe('startWatchdog', () => {
  it('pings at half of WATCHDOG_USEC and removes the watchdog variables', () => {
    const timers = manualTimers();
    const notifier = countingNotifier();
    const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) };
    const handle = startWatchdog(notifier, env, { timers });
    expect(handle?.intervalMs).toBe(15_000);
    expect(timers.ms).toBe(15_000);
    timers.callback?.();
    timers.callback?.();
    expect(notifier.pings).toBe(2);
    expect(env).toEqual({});
  });

  it('does nothing when the watchdog belongs to another process or is not set', () => {
    const timers = manualTimers();
    const notifier = countingNotifier();
    expect(startWatchdog(notifier, { WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }, { timers })).toBeUndefined();
    expect(startWatchdog(notifier, {}, { timers })).toBeUndefined();
    expect(startWatchdog(notifier, { WATCHDOG_USEC: 'soon' }, { timers })).toBeUndefined();
    expect(startWatchdog(notifier, { WATCHDOG_USEC: '0' }, { timers })).toBeUndefined();
    expect(startWatchdog(undefined, { WATCHDOG_USEC: '1000000' }, { timers })).toBeUndefined();
    expect(timers.callback).toBeUndefined();
  });

  it('stops when its signal aborts', () => {
    const timers = manualTimers();
    const controller = new AbortController();
    const handle = startWatchdog(
      countingNotifier(),
      { WATCHDOG_USEC: '2000000' },
      { timers, signal: controller.signal },
    );
    expect(handle?.intervalMs).toBe(1_000);
    expect(timers.cleared).toBe(false);
    controller.abort();
    expect(timers.cleared).toBe(true);
  });
});

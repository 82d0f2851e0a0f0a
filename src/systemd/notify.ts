import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isUnderSystemd, journalLine } from './journal.js';

/**
 * How notifications reach systemd. Node cannot send unix datagrams, so a helper does it:
 * `python3` is one long-lived process fed a line per message (nothing spawned per message, and the sender is
 * still alive when systemd looks up its cgroup, whatever the systemd version); `systemd-notify` is spawned per
 * message and ships with systemd itself, so it is the fallback wherever python3 is missing.
 */
export type NotifyTransportName = 'python3' | 'systemd-notify';

/** Where failures to notify are reported (once per notifier). */
export interface NotifyLogger {
  warn(message: string): void;
}

/** Options of {@link createNotifier}. */
export interface NotifierOptions {
  /** `auto` (default): python3 when it is on PATH, else systemd-notify. */
  transport?: NotifyTransportName | 'auto';
  logger?: NotifyLogger;
}

/** sd_notify(3) for the supervisor. Every method resolves once the message is handed over and never rejects. */
export interface Notifier {
  readonly transport: NotifyTransportName;
  /** READY=1, with an optional STATUS= line. */
  ready(status?: string): Promise<void>;
  /** STATUS=text, shown by `systemctl status`. */
  status(text: string): Promise<void>;
  /** STOPPING=1: shutdown has begun. */
  stopping(): Promise<void>;
  /** WATCHDOG=1: the event loop is alive. */
  watchdog(): Promise<void>;
  /** Flushes pending messages and ends the helper; later calls are ignored. Idempotent. */
  close(): Promise<void>;
}

/** How long close() waits for the python3 helper to drain and exit before killing it: it only has to send a few datagrams. */
const HELPER_EXIT_GRACE_MS = 2_000;

/** Reads one JSON string per line and sends it as one datagram; reports send errors on stderr and keeps going. */
const PYTHON_HELPER = `
import json, socket, sys
path = sys.argv[1]
address = "\\0" + path[1:] if path.startswith("@") else path
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        sock.sendto(json.loads(line).encode(), address)
    except OSError as error:
        print("cannot send to %s: %s" % (path, error), file=sys.stderr, flush=True)
`;

interface Transport {
  send(message: string): Promise<void>;
  close(): Promise<void>;
}

type ReportFailure = (message: string) => void;

/**
 * A notifier for the NOTIFY_SOCKET in `env`, or undefined when systemd did not ask for notifications.
 * Removes NOTIFY_SOCKET from `env` so children (which could speak for the whole service) never inherit it.
 */
export function createNotifier(
  env: NodeJS.ProcessEnv = process.env,
  options: NotifierOptions = {},
): Notifier | undefined {
  const socketPath = env.NOTIFY_SOCKET;
  if (socketPath === undefined || socketPath === '') return undefined;
  delete env.NOTIFY_SOCKET;

  const logger = options.logger ?? stderrLogger(env);
  let reported = false;
  const reportFailure: ReportFailure = (message) => {
    if (reported) return;
    reported = true;
    logger.warn(`Cannot notify systemd (${socketPath}): ${message}`);
  };
  if (!isAbsolute(socketPath) && !socketPath.startsWith('@')) {
    reportFailure('only filesystem and abstract unix sockets are supported.');
    return undefined;
  }

  const helperEnv: NodeJS.ProcessEnv = { ...env, NOTIFY_SOCKET: socketPath };
  const requested = options.transport ?? 'auto';
  const python = requested === 'systemd-notify' ? undefined : findOnPath('python3', env.PATH);
  const transportName: NotifyTransportName =
    requested === 'auto' ? (python === undefined ? 'systemd-notify' : 'python3') : requested;
  const transport =
    transportName === 'python3'
      ? createPythonTransport(python ?? 'python3', socketPath, helperEnv, reportFailure)
      : createSystemdNotifyTransport(helperEnv, reportFailure);

  let closed = false;
  const send = (message: string): Promise<void> => (closed ? Promise.resolve() : transport.send(message));
  return {
    transport: transportName,
    ready: (status) => send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`),
    status: (text) => send(`STATUS=${oneLine(text)}`),
    stopping: () => send('STOPPING=1'),
    watchdog: () => send('WATCHDOG=1'),
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return transport.close();
    },
  };
}

/** A running watchdog keep-alive. */
export interface WatchdogHandle {
  /** Milliseconds between WATCHDOG=1 pings: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises. */
  readonly intervalMs: number;
  stop(): void;
}

/** The timer functions the watchdog uses; injectable so tests can drive time. */
export interface IntervalTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Options of {@link startWatchdog}. */
export interface WatchdogOptions {
  signal?: AbortSignal;
  timers?: IntervalTimers;
}

const nodeTimers: IntervalTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * Pings WATCHDOG=1 at half of WATCHDOG_USEC from a timer on the event loop, so a blocked loop misses its pings
 * and systemd restarts the service. Undefined when no watchdog is configured for this process (WATCHDOG_PID
 * names another one). Removes WATCHDOG_USEC and WATCHDOG_PID from `env`; stops on `signal`.
 */
export function startWatchdog(
  notifier: Notifier | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: WatchdogOptions = {},
): WatchdogHandle | undefined {
  const usecText = env.WATCHDOG_USEC;
  const pidText = env.WATCHDOG_PID;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (notifier === undefined || usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  if (pidText !== undefined && pidText !== String(process.pid)) return undefined;
  const usec = Number(usecText);
  if (usec === 0 || options.signal?.aborted) return undefined;

  const intervalMs = Math.max(1, Math.floor(usec / 2_000));
  const timers = options.timers ?? nodeTimers;
  const handle = timers.setInterval(() => void notifier.watchdog(), intervalMs);
  (handle as { unref?: () => void }).unref?.();
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    timers.clearInterval(handle);
    options.signal?.removeEventListener('abort', stop);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  return { intervalMs, stop };
}

function createPythonTransport(
  python: string,
  socketPath: string,
  env: NodeJS.ProcessEnv,
  reportFailure: ReportFailure,
): Transport {
  let dead = false;
  let closing = false;
  const helper = spawn(python, ['-I', '-u', '-c', PYTHON_HELPER, socketPath], {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => {
    helper.once('close', (code, signal) => {
      dead = true;
      if (!closing) reportFailure(`the python3 helper exited (${signal ?? `code ${code}`}).`);
      resolve();
    });
    helper.once('error', (error) => {
      dead = true;
      reportFailure(`cannot run ${python}: ${error.message}`);
      resolve();
    });
  });
  helper.stdin?.on('error', (error) => reportFailure(`the python3 helper stopped reading: ${error.message}`));
  helper.stderr?.setEncoding('utf8');
  helper.stderr?.on('data', (text: string) => reportFailure(text.trim()));
  unrefHelper(helper);

  return {
    send: (message) =>
      new Promise<void>((resolve) => {
        const stdin = helper.stdin;
        if (dead || stdin === null || !stdin.writable) {
          resolve();
          return;
        }
        stdin.write(`${JSON.stringify(message)}\n`, () => resolve());
      }),
    close: async () => {
      closing = true;
      helper.stdin?.end();
      const controller = new AbortController();
      const timedOut = delay(HELPER_EXIT_GRACE_MS, true, { signal: controller.signal }).catch(() => false);
      const killed = await Promise.race([exited.then(() => false), timedOut]);
      controller.abort();
      if (killed) helper.kill('SIGKILL');
    },
  };
}

/** The helper must never keep the supervisor's event loop alive by itself. */
function unrefHelper(helper: ChildProcess): void {
  helper.unref();
  for (const stream of [helper.stdin, helper.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }
}

function createSystemdNotifyTransport(env: NodeJS.ProcessEnv, reportFailure: ReportFailure): Transport {
  // Spawned one at a time so messages arrive in the order they were sent.
  let queue = Promise.resolve();
  const runOne = (message: string): Promise<void> =>
    new Promise<void>((resolve) => {
      // --pid names the supervisor as the sender (and main PID) even though systemd-notify sends the datagram.
      const child = spawn('systemd-notify', [`--pid=${process.pid}`, ...message.split('\n')], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        stderr += text;
      });
      child.once('error', (error) => {
        reportFailure(`cannot run systemd-notify: ${error.message}`);
        resolve();
      });
      child.once('close', (code) => {
        if (code !== 0) reportFailure(`systemd-notify exited with code ${code}: ${stderr.trim()}`);
        resolve();
      });
    });
  return {
    send: (message) => {
      queue = queue.then(() => runOne(message));
      return queue;
    },
    close: () => queue,
  };
}

function findOnPath(name: string, pathText: string | undefined): string | undefined {
  for (const dir of (pathText ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: keep looking.
    }
  }
  return undefined;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function stderrLogger(env: NodeJS.ProcessEnv): NotifyLogger {
  const underSystemd = isUnderSystemd(env);
  return {
    warn: (message) => {
      process.stderr.write(`${underSystemd ? journalLine('warning', message) : `warning: ${message}`}\n`);
    },
  };
}

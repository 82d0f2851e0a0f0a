import { setTimeout as delay } from 'node:timers/promises';
import { OmnimindError } from '../../protocol/index.js';
import { callControl, type StatusReport } from '../../supervisor/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';
import { color, formatTable } from '../output.js';

/** How often the table is redrawn. */
const REDRAW_MS = 1000;

/** Terminal controls: the alternate screen, the cursor, and home + clear for each frame. */
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const CLEAR = '\x1b[H\x1b[2J';
/** Ctrl-C as a raw terminal sends it. */
const CTRL_C = '\x03';

/** What the previous poll saw of each child, to turn counters into rates. */
type Previous = Map<string, { requests: number; errors: number; at: number }>;

function rates(report: StatusReport, previous: Previous, at: number) {
  return report.children.map((child) => {
    const before = previous.get(child.name);
    const seconds = before === undefined ? 0 : (at - before.at) / 1000;
    previous.set(child.name, { requests: child.requests, errors: child.errors, at });
    const per = (now: number, then: number | undefined) =>
      seconds > 0 && then !== undefined ? Math.max(0, now - then) / seconds : 0;
    return { child, rps: per(child.requests, before?.requests), eps: per(child.errors, before?.errors) };
  });
}

/** The table a terminal shows: one row per child with its request and error rates, then the shared parts. */
function formatFrame(report: StatusReport, rows: ReturnType<typeof rates>): string {
  const table = formatTable(
    ['NAME', 'STATE', 'PID', 'RESTARTS', 'CLIENTS', 'REQ/S', 'ERR/S', 'REQUESTS', 'P50', 'P99', 'CACHE HIT', 'QUEUE'],
    rows.map(({ child: c, rps, eps }) => [
      c.name,
      c.state === 'RUNNING' ? color.green(c.state) : color.yellow(c.state),
      c.pid === null ? '-' : String(c.pid),
      String(c.restarts),
      String(c.clients),
      rps.toFixed(1),
      eps.toFixed(1),
      String(c.requests),
      `${c.latencyMs.p50}ms`,
      `${c.latencyMs.p99}ms`,
      c.requests === 0 ? '-' : `${Math.round((c.cacheHits / c.requests) * 100)}%`,
      String(c.queued),
    ]),
  );
  const { cache, limiter } = report;
  return [
    `omnimind ${report.supervisor.version} (pid ${report.supervisor.pid}) - ${new Date().toISOString()}`,
    '',
    table,
    '',
    `cache hit ${(cache.hitRate * 100).toFixed(1)}% (${cache.hits}/${cache.hits + cache.misses}); ` +
      `limiter ${Math.round(limiter.rps)} rps, running ${limiter.running}, queue ${limiter.queued}, ` +
      `shed ${limiter.shed}, timed out ${limiter.timedOut}`,
    color.dim('q or Ctrl-C to quit'),
  ].join('\n');
}

/** One plain line per child, for a pipe or a log. */
function formatLines(rows: ReturnType<typeof rates>): string {
  const now = new Date().toISOString();
  return rows
    .map(
      ({ child: c, rps, eps }) =>
        `${now} ${c.name} ${c.state} clients=${c.clients} req/s=${rps.toFixed(1)} err/s=${eps.toFixed(1)} ` +
        `requests=${c.requests} p50=${c.latencyMs.p50}ms p99=${c.latencyMs.p99}ms queue=${c.queued}`,
    )
    .join('\n');
}

/**
 * `omnimind status --watch [child…]`: the status table redrawn every second with request rates on a terminal (on its
 * alternate screen, cursor hidden), plain lines each second otherwise; `q` or Ctrl-C ends it.
 */
export async function statusWatchCommand(names: string[], options: GlobalOptions): Promise<number> {
  const socket = pathsFor(options).controlSocket;
  const tty = process.stdout.isTTY === true;
  const stop = new AbortController();
  const quit = () => stop.abort();
  const onKey = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (text.includes('q') || text.includes('Q') || text.includes(CTRL_C)) quit();
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on('data', onKey);
  if (tty) process.stdout.write(ENTER);
  const previous: Previous = new Map();
  try {
    while (!stop.signal.aborted) {
      let text: string;
      try {
        const report = await callControl(socket, 'status', names.length ? { children: names } : {});
        const rows = rates(report, previous, Date.now());
        text = tty ? formatFrame(report, rows) : formatLines(rows);
      } catch (error) {
        if (!(error instanceof OmnimindError && error.code === 'NOT_RUNNING')) throw error;
        previous.clear();
        text = `${new Date().toISOString()} omnimind is not running`;
      }
      process.stdout.write(tty ? `${CLEAR}${text}\n` : `${text}\n`);
      await delay(REDRAW_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    if (tty) process.stdout.write(LEAVE);
    process.stdin.off('data', onKey);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
  return 0;
}

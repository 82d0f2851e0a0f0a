import { Chalk } from 'chalk';
import type { ExitRecord, StatusReport } from '../supervisor/index.js';

/** Colours for stdout: only on a TTY and never with NO_COLOR. */
export const color = new Chalk({ level: process.stdout.isTTY && !('NO_COLOR' in process.env) ? 1 : 0 });
/** Colours for stderr, with the same rules. */
export const errorColor = new Chalk({ level: process.stderr.isTTY && !('NO_COLOR' in process.env) ? 1 : 0 });

/** Prints rows as left-aligned columns with a header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [color.bold(line(header)), ...rows.map(line)].join('\n');
}

function formatUptime(startedAt: string | null): string {
  if (!startedAt) return '-';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}

/** Resident memory as whole MiB ("61M"), or "-" for a child with no process. */
function formatRss(bytes: number | null): string {
  return typeof bytes !== 'number' ? '-' : `${Math.round(bytes / (1024 * 1024))}M`;
}

/** CPU time used, in seconds ("1.25s"), or "-" for a child with no process. */
function formatCpu(seconds: number | null): string {
  return typeof seconds !== 'number' ? '-' : `${seconds.toFixed(2)}s`;
}

function paintState(state: string): string {
  if (state === 'RUNNING') return color.green(state);
  if (state === 'FATAL' || state === 'EXITED') return color.red(state);
  return color.yellow(state);
}

/** A child's last exit in words: its reason and, when known, why (`spawn-failed: spawn nosuch ENOENT`). */
export function formatExit(exit: ExitRecord): string {
  return exit.message ? `${exit.reason}: ${exit.message}` : exit.reason;
}

/** States in which a child is down because of its last exit, so `status` says why. */
const FAILED_STATES = new Set(['FATAL', 'EXITED', 'BACKOFF']);

/** The human status table of CONTRACT.md: one row per child, then the shared cache and limiter. */
/** The Redis L2's state for the status line ('' with the SQLite file). */
function redisSummary(l2: StatusReport['cache']['l2']): string {
  if (l2.kind !== 'redis') return '';
  const state = l2.connected ? 'connected' : color.red('unreachable');
  return `, L2 redis ${state} (${l2.errors ?? 0} errors, ${l2.degraded ?? 0} degraded)`;
}

export function formatStatus(report: StatusReport): string {
  const rows = report.children.map((c) => [
    c.name,
    paintState(c.state),
    c.pid === null ? '-' : String(c.pid),
    formatUptime(c.startedAt),
    formatRss(c.rssBytes),
    formatCpu(c.cpuSeconds),
    String(c.restarts),
    c.socket,
    String(c.clients),
    String(c.requests),
    String(c.errors),
    `${c.latencyMs.p99}ms`,
    c.requests === 0 ? '-' : `${Math.round((c.cacheHits / c.requests) * 100)}%`,
    String(c.queued),
  ]);
  const table = formatTable(
    [
      'NAME',
      'STATE',
      'PID',
      'UPTIME',
      'RSS',
      'CPU',
      'RESTARTS',
      'SOCKET',
      'CLIENTS',
      'REQUESTS',
      'ERRORS',
      'P99',
      'CACHE HIT',
      'QUEUE',
    ],
    rows,
  );
  const { cache, limiter, supervisor } = report;
  const summary =
    `supervisor pid ${supervisor.pid}, up ${formatUptime(supervisor.startedAt)}, ${formatRss(supervisor.rssBytes)} resident; ` +
    `cache hit ${(cache.hitRate * 100).toFixed(1)}% (${cache.hits}/${cache.hits + cache.misses})${redisSummary(cache.l2)}; ` +
    `limiter ${Math.round(limiter.rps)} rps, queue ${limiter.queued}, shed ${limiter.shed}, timed out ${limiter.timedOut}`;
  const failures = report.children
    .filter((c) => FAILED_STATES.has(c.state) && c.lastExit)
    .map((c) => color.red(`child "${c.name}" is ${c.state}; last exit: ${formatExit(c.lastExit!)}`));
  const warnings = report.children
    .filter((c) => c.logError)
    .map((c) => color.yellow(`warning: log of "${c.name}" cannot be written: ${c.logError}`));
  const profiles = (report.profiles ?? []).map(
    (p) => `profile ${p.name}: ${p.socket}, ${p.clients} client(s), children ${p.children.join(', ') || '(none)'}`,
  );
  const conflicts = (report.profiles ?? []).flatMap((p) =>
    p.uriConflicts.map((uri) => color.yellow(`warning: profile "${p.name}": ${uri} is listed by two children`)),
  );
  const http = report.http === undefined ? [] : [formatHttp(report.http)];
  return [table, ...profiles, ...http, summary, ...failures, ...warnings, ...conflicts].join('\n');
}

/** The HTTP front's line: its URL, auth mode and sessions by revision and by credential. */
function formatHttp(http: NonNullable<StatusReport['http']>): string {
  const counts = (byKey: Record<string, number>) =>
    Object.entries(byKey)
      .map(([key, n]) => `${key} ${n}`)
      .join(', ') || 'none';
  return (
    `http ${http.url} (auth ${http.auth}): ${http.sessions} session(s); ` +
    `by revision: ${counts(http.byRevision)}; by credential: ${counts(http.byCredential)}`
  );
}

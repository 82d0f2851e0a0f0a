import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageRoot } from '../../config/version.js';
import { readLastLines } from '../../logs/tail.js';
import { OmnimindError } from '../../protocol/index.js';
import { callControl } from '../../supervisor/control-client.js';
import type { StatusReport } from '../../supervisor/control-protocol.js';
import { preparePrivateDirs } from '../../supervisor/private-dir.js';
import { isProcessRunning } from '../../supervisor/proc.js';
import type { ChildState } from '../../supervisor/types.js';
import { configFor, type GlobalOptions, pathsFor } from '../context.js';
import { formatExit, formatStatus } from '../output.js';

/** How long `omnimind start` waits for the supervisor and its children before giving up. */
const START_WAIT_MS = 60_000;
/** How long `start` waits for a daemon that found another supervisor running to exit (it waits on the lock first). */
const LOSER_EXIT_WAIT_MS = 5_000;
/** Lines of a failed child's log shown by `start`. */
const FAILED_LOG_LINES = 15;

/** RUNNING, or IDLE (an on-demand child whose socket listens): what `start` and `status` count as up. */
function isUp(state: ChildState): boolean {
  return state === 'RUNNING' || state === 'IDLE';
}

function report(report: StatusReport, names: string[] | undefined): number {
  process.stdout.write(`${formatStatus(report)}\n`);
  const failed = report.children.filter((c) => !isUp(c.state) && (!names || names.includes(c.name)));
  for (const child of failed) {
    const reason = child.lastExit ? ` (last exit: ${formatExit(child.lastExit)})` : '';
    process.stderr.write(`\nchild "${child.name}" failed to start: ${child.state}${reason}\n`);
    const lines = readLastLines(child.logFile, FAILED_LOG_LINES);
    if (lines.length > 0) process.stderr.write(`last lines of ${child.logFile}:\n`);
    for (const line of lines) process.stderr.write(`  ${line}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}

/**
 * `omnimind start [child…]`: start the supervisor in the background and return once the eager children are RUNNING
 * (on-demand ones stay IDLE), or start named children in the running one.
 */
export async function startCommand(names: string[], options: GlobalOptions): Promise<number> {
  const paths = pathsFor(options);
  if (names.length > 0) {
    return report(await callControl(paths.controlSocket, 'start', { children: names }, START_WAIT_MS + 5_000), names);
  }
  try {
    const status = await callControl(paths.controlSocket, 'status', {});
    process.stdout.write(`omnimind is already running (pid ${status.supervisor.pid}).\n`);
    return report(status, undefined);
  } catch (error) {
    if (!(error instanceof OmnimindError) || error.code !== 'NOT_RUNNING') throw error;
  }
  await configFor(options);
  const { spawnDaemon } = await import('../../supervisor/daemon.js');
  preparePrivateDirs(paths);
  const logFile = join(paths.logsDir, 'supervisor.log');
  const daemon = spawnDaemon(
    join(packageRoot(), 'bin', 'omnimind.js'),
    ['start', '--foreground', '--config', paths.configFile],
    logFile,
    { OMNIMIND_DAEMON: '1' },
  );
  let daemonExit: number | undefined;
  void daemon.exited.then((code) => {
    daemonExit = code;
  });
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const status = await callControl(
        paths.controlSocket,
        'wait',
        { timeoutMs: Math.max(1, deadline - Date.now()) },
        START_WAIT_MS + 5_000,
      );
      // A daemon that lost the race to another start is on its way out: `start` leaves no process of its own behind.
      if (status.supervisor.pid !== daemon.pid) await Promise.race([daemon.exited, delay(LOSER_EXIT_WAIT_MS)]);
      return report(status, undefined);
    } catch (error) {
      if (!(error instanceof OmnimindError) || error.code !== 'NOT_RUNNING') throw error;
    }
    if (daemonExit !== undefined && daemonExit !== 0) {
      const tail = readLastLines(logFile, FAILED_LOG_LINES)
        .map((l) => `  ${l}`)
        .join('\n');
      throw new OmnimindError(
        'START_FAILED',
        `The supervisor exited with code ${daemonExit}. Last lines of ${logFile}:\n${tail}`,
      );
    }
    await delay(20);
  }
  throw new OmnimindError(
    'START_FAILED',
    `The supervisor did not answer within ${START_WAIT_MS / 1000} s; see ${logFile}.`,
  );
}

/** `omnimind stop [child…]`: stop named children, or every child and the supervisor. */
export async function stopCommand(names: string[], options: GlobalOptions & { timeout?: number }): Promise<number> {
  const paths = pathsFor(options);
  const timeoutMs = options.timeout === undefined ? undefined : options.timeout * 1000;
  let status: StatusReport;
  try {
    status = await callControl(paths.controlSocket, 'status', {});
  } catch (error) {
    if (error instanceof OmnimindError && error.code === 'NOT_RUNNING') {
      process.stdout.write('omnimind is not running.\n');
      return 0;
    }
    throw error;
  }
  const result = await callControl(
    paths.controlSocket,
    'stop',
    { children: names, ...(timeoutMs ? { timeoutMs } : {}) },
    120_000,
  );
  if (!result.supervisor) {
    process.stdout.write(`stopped ${result.stopped.join(', ')}\n`);
    return 0;
  }
  const pid = status.supervisor.pid;
  while (isProcessRunning(pid)) await delay(20);
  process.stdout.write(`omnimind stopped (pid ${pid}).\n`);
  return 0;
}

/** `omnimind restart [child…]`: restart named children, or the whole supervisor. */
export async function restartCommand(names: string[], options: GlobalOptions & { timeout?: number }): Promise<number> {
  if (names.length > 0) {
    const paths = pathsFor(options);
    const timeoutMs = options.timeout === undefined ? undefined : options.timeout * 1000;
    return report(
      await callControl(
        paths.controlSocket,
        'restart',
        { children: names, ...(timeoutMs ? { timeoutMs } : {}) },
        120_000,
      ),
      names,
    );
  }
  await stopCommand([], options);
  return await startCommand([], options);
}

/** `omnimind status [child…] [--json]`: exit 3 when the supervisor or a named child is not running. */
export async function statusCommand(names: string[], options: GlobalOptions & { json?: boolean }): Promise<number> {
  const paths = pathsFor(options);
  let status: StatusReport;
  try {
    status = await callControl(paths.controlSocket, 'status', { ...(names.length ? { children: names } : {}) });
  } catch (error) {
    if (error instanceof OmnimindError && error.code === 'NOT_RUNNING') {
      if (options.json) process.stdout.write(`${JSON.stringify({ supervisor: null, children: [] })}\n`);
      else process.stdout.write('omnimind is not running. Start it with `omnimind start`.\n');
      return 3;
    }
    throw error;
  }
  process.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  const notRunning = status.children.some((c) => !isUp(c.state));
  return notRunning ? 3 : 0;
}

import { join } from 'node:path';
import { resolveChildSpecs } from '../../config/index.js';
import { createLogger, type LogLevel, RotatingLogFile } from '../../logs/index.js';
import { OmnimindError } from '../../protocol/index.js';
import { preparePrivateDirs, Supervisor, type SystemdHooks, usePrivateUmask } from '../../supervisor/index.js';
import {
  createNotifier,
  inheritedSockets,
  isUnderSystemd,
  type JournalLevel,
  journalLine,
  startWatchdog,
} from '../../systemd/index.js';
import { configFor, type GlobalOptions } from '../context.js';
import { formatReload } from './reload.js';

const JOURNAL_LEVEL: Record<LogLevel, JournalLevel> = { error: 'err', warn: 'warning', info: 'info', debug: 'debug' };

/** `omnimind start --foreground`: run the supervisor attached until SIGTERM or SIGINT. */
export async function runForeground(options: GlobalOptions): Promise<number> {
  // Taken first, so that no child can inherit the descriptors or the variables.
  const sockets = inheritedSockets();
  const underSystemd = isUnderSystemd();
  const { paths, loaded } = await configFor(options);
  // Before anything is written: what the supervisor creates is private, and nothing goes into a directory it refuses.
  usePrivateUmask();
  preparePrivateDirs(paths);
  const daemon = process.env.OMNIMIND_DAEMON === '1';
  const logger = createLogger({
    file: new RotatingLogFile(join(paths.logsDir, 'supervisor.log'), loaded.config.logs),
    stderr: !daemon,
    formatStderr: underSystemd ? (level, message) => journalLine(JOURNAL_LEVEL[level], message) : undefined,
    debug: options.debug,
  });
  const notifier = createNotifier(process.env, { logger });
  const lifetime = new AbortController();
  startWatchdog(notifier, process.env, { signal: lifetime.signal });
  const systemd: SystemdHooks | undefined =
    notifier || sockets.size > 0
      ? {
          sockets,
          ready: (status) => void notifier?.ready(status),
          status: (text) => void notifier?.status(text),
          stopping: () => void notifier?.stopping(),
        }
      : undefined;
  const supervisor = new Supervisor({
    paths,
    config: loaded.config,
    specs: resolveChildSpecs(loaded.config, paths, process.cwd()),
    logger,
    systemd,
    cwd: process.cwd(),
  });
  const stop = () => void supervisor.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // During start-up the reload waits for it; while stopping it is refused (and logged).
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config');
    supervisor.reload().then(
      (report) => logger.info(formatReload(report).trimEnd()),
      (error: OmnimindError) =>
        error.code === 'SHUTTING_DOWN'
          ? logger.info('SIGHUP ignored: the supervisor is stopping')
          : logger.error(`SIGHUP: the config was not reloaded: ${error.message}`),
    );
  });
  process.on('uncaughtException', (error) => logger.error(`uncaught exception: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${String(reason)}`));
  try {
    await supervisor.start();
  } catch (error) {
    lifetime.abort();
    await notifier?.close();
    if (error instanceof OmnimindError && error.code === 'ALREADY_RUNNING' && !underSystemd) {
      logger.info(`${error.message} This process exits and leaves it alone.`);
      return 0;
    }
    await supervisor.shutdown();
    throw error;
  }
  await supervisor.closed;
  lifetime.abort();
  await notifier?.close();
  return 0;
}

import { join } from 'node:path';
import { resolveChildSpecs } from '../../config/index.js';
import { createLogger, RotatingLogFile } from '../../logs/index.js';
import { OmnimindError } from '../../protocol/index.js';
import { Supervisor } from '../../supervisor/index.js';
import { configFor, type GlobalOptions } from '../context.js';

/** `omnimind start --foreground`: run the supervisor attached until SIGTERM or SIGINT. */
export async function runForeground(options: GlobalOptions): Promise<number> {
  const { paths, loaded } = configFor(options);
  const daemon = process.env.OMNIMIND_DAEMON === '1';
  const underSystemd = process.env.INVOCATION_ID !== undefined || process.env.JOURNAL_STREAM !== undefined;
  const logger = createLogger({
    file: new RotatingLogFile(join(paths.logsDir, 'supervisor.log'), loaded.config.logs),
    stderr: !daemon,
    journal: underSystemd,
    debug: options.debug,
  });
  const supervisor = new Supervisor({
    paths,
    config: loaded.config,
    specs: resolveChildSpecs(loaded.config, paths, process.cwd()),
    logger,
  });
  const stop = () => void supervisor.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => logger.info('SIGHUP ignored; use `omnimind restart` to reload the config'));
  process.on('uncaughtException', (error) => logger.error(`uncaught exception: ${error.stack ?? error.message}`));
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${String(reason)}`));
  try {
    await supervisor.start();
  } catch (error) {
    if (error instanceof OmnimindError && error.code === 'ALREADY_RUNNING') {
      logger.info(`${error.message} This process exits and leaves it alone.`);
      return 0;
    }
    await supervisor.shutdown();
    throw error;
  }
  await supervisor.closed;
  return 0;
}

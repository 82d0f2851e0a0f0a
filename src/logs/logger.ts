import type { RotatingLogFile } from './rotating-file.js';

/** A log level, most to least severe. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The small logging interface every module receives as an option. */
export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/** Where the supervisor's own log lines go. */
export interface LoggerOptions {
  /** The supervisor log file. */
  file?: RotatingLogFile;
  /** Also write to stderr (foreground mode). */
  stderr?: boolean;
  /** Prefix stderr lines with `<N>` syslog priorities for journald. */
  journal?: boolean;
  debug?: boolean;
}

/** Creates the supervisor logger: timestamped lines to the log file, plain or journald-prefixed lines to stderr. */
export function createLogger(options: LoggerOptions): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (level === 'debug' && !options.debug) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`;
    options.file?.write(line);
    if (options.stderr) {
      process.stderr.write(options.journal ? `<${SYSLOG_PRIORITY[level]}>${message}\n` : line);
    }
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  };
}

/** A logger that drops everything (tests and library defaults). */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

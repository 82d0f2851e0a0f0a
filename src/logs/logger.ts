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

/** Where the supervisor's own log lines go. */
export interface LoggerOptions {
  /** The supervisor log file. */
  file?: RotatingLogFile;
  /** Also write to stderr (foreground mode). */
  stderr?: boolean;
  /** Formats a stderr line (e.g. with a journald `<N>` priority prefix); default: the timestamped file line. */
  formatStderr?: (level: LogLevel, message: string) => string;
  debug?: boolean;
}

/** Creates the supervisor logger: timestamped lines to the log file and, when asked, to stderr. */
export function createLogger(options: LoggerOptions): Logger {
  const emit = (level: LogLevel, message: string) => {
    if (level === 'debug' && !options.debug) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`;
    options.file?.write(line);
    if (options.stderr) {
      process.stderr.write(options.formatStderr ? `${options.formatStderr(level, message)}\n` : line);
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

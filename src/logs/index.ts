export { createLogger, type Logger, type LoggerOptions, type LogLevel, silentLogger } from './logger.js';
export {
  DEFAULT_LOG_KEEP,
  DEFAULT_LOG_MAX_BYTES,
  RotatingLogFile,
  type RotatingLogFileOptions,
} from './rotating-file.js';
export { followFile, readLastLines } from './tail.js';

import { isAbsolute, join } from 'node:path';
import { OmnimindError } from '../../protocol/index.js';

/**
 * How long one query may run when the config sets no `limits.timeoutMs` (ms): under the gateway's default 30 s
 * request limit, so the caller gets this child's explanation rather than a bare timeout.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 25_000;

/** The file used when the config names no database, inside the child's data directory. */
export const DEFAULT_DATABASE_FILE = 'sqlite.db';

/** The sqlite child's options, checked. */
export interface SqliteOptions {
  /** Absolute path of the database file. */
  database: string;
  /** Refuse every write and open the file read-only. */
  readOnly: boolean;
  /** How long one query may run before it is interrupted (ms). */
  queryTimeoutMs: number;
}

function invalid(message: string): OmnimindError {
  return new OmnimindError('CHILD_CONFIG_INVALID', message);
}

/** Checks the sqlite section of the config (`database`, `readOnly`, `limits.timeoutMs`) and fills in defaults. */
export function parseSqliteOptions(raw: Record<string, unknown>, dataDir: () => string): SqliteOptions {
  const { database, readOnly, limits } = raw;
  if (database !== undefined && (typeof database !== 'string' || !isAbsolute(database))) {
    throw invalid(`Expected \`database\` to be an absolute path, got \`${JSON.stringify(database)}\``);
  }
  if (readOnly !== undefined && typeof readOnly !== 'boolean') {
    throw invalid(`Expected \`readOnly\` to be a boolean, got \`${JSON.stringify(readOnly)}\``);
  }
  const timeoutMs = (limits as { timeoutMs?: unknown } | undefined)?.timeoutMs;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 1)) {
    throw invalid(`Expected \`limits.timeoutMs\` to be an integer >= 1, got \`${JSON.stringify(timeoutMs)}\``);
  }
  return {
    database: database ?? join(dataDir(), DEFAULT_DATABASE_FILE),
    readOnly: readOnly ?? false,
    queryTimeoutMs: (timeoutMs as number | undefined) ?? DEFAULT_QUERY_TIMEOUT_MS,
  };
}

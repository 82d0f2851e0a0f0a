import Database from 'better-sqlite3';

/** How long a statement waits for another connection's lock before failing (ms). */
const BUSY_TIMEOUT_MS = 5_000;

/** Opens a child's SQLite store with WAL and safe defaults; the caller owns and closes it. */
export function openStore(file: string, options: { readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  }
  return db;
}

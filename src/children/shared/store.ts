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

/**
 * Creates a store's tables (`sql` must be idempotent: CREATE ... IF NOT EXISTS) and records `schemaVersion` in
 * user_version; refuses a file written by a newer version of the program.
 */
export function applySchema(db: Database.Database, store: string, schemaVersion: number, sql: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion) {
    throw new Error(
      `The ${store} store has schema version ${version}, newer than this program's ${schemaVersion}: upgrade omnimind`,
    );
  }
  db.exec(sql);
  if (version < schemaVersion) db.pragma(`user_version = ${schemaVersion}`);
}

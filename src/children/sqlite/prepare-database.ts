import { closeSync, constants, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { OmnimindError } from '../../protocol/index.js';

/** Mode of a database file this child creates: its journal, -wal and -shm files take the same mode from SQLite. */
const DATABASE_FILE_MODE = 0o600;
/** Mode of the folders created for it. */
const DATABASE_DIR_MODE = 0o700;

/** Creates an empty database file readable by its owner only, whatever the umask; an existing file is left as it is. */
function createPrivateFile(database: string): void {
  mkdirSync(dirname(database), { recursive: true, mode: DATABASE_DIR_MODE });
  let fd: number;
  try {
    fd = openSync(database, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, DATABASE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(fd, DATABASE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes sure the database can be served: creates the file (and its folder) when writes are allowed, checks that it
 * exists when they are not, and reads its schema once, which also recovers a journal left by a killed writer.
 * The file's journal mode is left as its owner set it.
 */
export function prepareDatabase(database: string, readOnly: boolean): void {
  let db: Database.Database | undefined;
  try {
    if (!readOnly) createPrivateFile(database);
    db = new Database(database, { readonly: readOnly, fileMustExist: readOnly });
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (error) {
    const hint = readOnly ? ' With `readOnly: true` the file must already exist.' : '';
    throw new OmnimindError(
      'DATABASE_UNAVAILABLE',
      `Cannot open the database ${database}: ${(error as Error).message}.${hint}`,
      { cause: error },
    );
  } finally {
    db?.close();
  }
}

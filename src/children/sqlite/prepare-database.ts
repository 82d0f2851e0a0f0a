import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { OmnimindError } from '../../protocol/index.js';

/**
 * Makes sure the database can be served: creates the file (and its folder) when writes are allowed, checks that it
 * exists when they are not, and reads its schema once, which also recovers a journal left by a killed writer.
 * The file's journal mode is left as its owner set it.
 */
export function prepareDatabase(database: string, readOnly: boolean): void {
  let db: Database.Database | undefined;
  try {
    if (!readOnly) mkdirSync(dirname(database), { recursive: true });
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

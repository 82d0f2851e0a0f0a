import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OmnimindError } from '../protocol/index.js';

/** The lock file, inside the verified 0700 runtime directory: no other user can open, hold or replace it. */
export const LOCK_FILE = 'supervisor.lock';

/**
 * How long taking the lock may wait on another process's passing hold. SQLite takes an exclusive lock through a
 * shared one: two starts racing can each see the other's shared lock, and without a wait both would give up and no
 * supervisor would run. A live supervisor holds the lock for good, so a second start still gives up, this much later.
 */
const LOCK_WAIT_MS = 500;

/** The single-instance lock of one runtime directory, held until `release` or the death of the process. */
export interface InstanceLock {
  /** Releases the lock; idempotent. */
  release(): void;
}

/**
 * Takes the single-instance lock of a runtime directory, or returns undefined if another supervisor holds it.
 * It is a POSIX record lock on `supervisor.lock` held through SQLite (an exclusive transaction kept open for the
 * life of the process): the kernel drops it when the process dies, even on SIGKILL, so a stale lock cannot block a
 * start, and two racing starts can never both win (nor, waiting up to `LOCK_WAIT_MS`, both lose). Node has no flock; SQLite is
 * already loaded for the state database. Record locks are not inherited by children, so an orphan never holds it.
 */
export function acquireInstanceLock(runtimeDir: string): InstanceLock | undefined {
  const file = join(runtimeDir, LOCK_FILE);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: LOCK_WAIT_MS });
  } catch (error) {
    throw new OmnimindError('LOCK_FAILED', `Cannot open the supervisor lock ${file}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return undefined;
    throw new OmnimindError('LOCK_FAILED', `Cannot take the supervisor lock ${file}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
}

import Database from 'better-sqlite3';

/** The most databases SQLite lets one connection attach (its compile-time ceiling, SQLITE_MAX_ATTACHED ≤ 125). */
const MAX_ATTACHED_CEILING = 125;
/** What SQLite says when a connection already holds all the databases it may attach. */
const ATTACH_LIMIT_MESSAGE = 'too many attached databases';

/** Whether `error` is SQLite refusing to attach one more database. */
export function isAttachLimit(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(ATTACH_LIMIT_MESSAGE);
}

/** How many databases a connection may attach in this build, found on the first connection (a compile-time value). */
let attachLimit: number | undefined;

function attachFillers(db: Database.Database, count: number): void {
  const statements = Array.from({ length: count }, (_, index) => `ATTACH ':memory:' AS omnimind_sealed_${index};`);
  db.exec(statements.join('\n'));
}

/** Counts how many databases SQLite lets a connection attach, by attaching fillers until it refuses. */
function findAttachLimit(db: Database.Database): number {
  for (let count = 0; count <= MAX_ATTACHED_CEILING; count++) {
    try {
      db.exec(`ATTACH ':memory:' AS omnimind_probe_${count}`);
    } catch (error) {
      if (isAttachLimit(error)) return count;
      throw error;
    }
  }
  throw new Error(`SQLite accepted more than ${MAX_ATTACHED_CEILING} attached databases; refusing to serve queries.`);
}

/**
 * Attaches empty in-memory databases up to SQLite's limit. Every way SQL has to reach a second file (ATTACH, and
 * VACUUM, whose INTO form creates a file anywhere) attaches it first, so SQLite itself then refuses before opening
 * anything, whatever the statement's text. The statement that could detach a filler (DETACH) is never run.
 */
export function sealConnection(db: Database.Database): void {
  if (attachLimit === undefined) {
    const probe = new Database(':memory:');
    try {
      attachLimit = findAttachLimit(probe);
    } finally {
      probe.close();
    }
  }
  attachFillers(db, attachLimit);
}

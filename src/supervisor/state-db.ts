import Database from 'better-sqlite3';
import type { ExitRecord } from './types.js';

/** What the state database remembers of one child's current process. */
export interface ChildRecord {
  name: string;
  pid: number | null;
  pgid: number | null;
  startTime: number | null;
  state: string;
  restarts: number;
  lastExit: ExitRecord | null;
}

/** The supervisor's durable state (`omnimind.db`): enough to find and kill orphans after a supervisor SIGKILL. */
export class StateDb {
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement;

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS children (
      name TEXT PRIMARY KEY,
      pid INTEGER,
      pgid INTEGER,
      start_time INTEGER,
      state TEXT NOT NULL,
      restarts INTEGER NOT NULL DEFAULT 0,
      last_exit TEXT,
      updated_at TEXT NOT NULL
    )`);
    this.#upsert =
      this.#db.prepare(`INSERT INTO children (name, pid, pgid, start_time, state, restarts, last_exit, updated_at)
      VALUES (@name, @pid, @pgid, @startTime, @state, @restarts, @lastExit, @updatedAt)
      ON CONFLICT(name) DO UPDATE SET pid = excluded.pid, pgid = excluded.pgid, start_time = excluded.start_time,
        state = excluded.state, restarts = excluded.restarts, last_exit = excluded.last_exit, updated_at = excluded.updated_at`);
  }

  /** Records a child's current process and state. */
  saveChild(record: ChildRecord): void {
    this.#upsert.run({
      ...record,
      lastExit: record.lastExit ? JSON.stringify(record.lastExit) : null,
      updatedAt: new Date().toISOString(),
    });
  }

  /** Every child record, including those of a supervisor that died. */
  listChildren(): ChildRecord[] {
    const rows = this.#db.prepare('SELECT * FROM children ORDER BY name').all() as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      name: String(row.name),
      pid: row.pid as number | null,
      pgid: row.pgid as number | null,
      startTime: row.start_time as number | null,
      state: String(row.state),
      restarts: Number(row.restarts),
      lastExit: row.last_exit ? (JSON.parse(String(row.last_exit)) as ExitRecord) : null,
    }));
  }

  /** Closes the database; idempotent. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

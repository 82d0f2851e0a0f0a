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

/** A bearer token of the HTTP front as stored: its SHA-256 hash, never the secret. */
export interface TokenRecord {
  name: string;
  /** Hex SHA-256 of the secret. */
  hash: string;
  /** The endpoints it may reach; empty: every endpoint. */
  endpoints: string[];
  createdAt: string;
  /** ISO time after which it is refused, or null. */
  expiresAt: string | null;
}

/** The supervisor's durable state (`omnimind.db`): enough to find and kill orphans after a supervisor SIGKILL. */
export class StateDb {
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement;
  readonly #tokenByHash: Database.Statement;
  readonly #dataVersion: Database.Statement;

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
    this.#db.exec(`CREATE TABLE IF NOT EXISTS tokens (
      name TEXT PRIMARY KEY,
      hash TEXT NOT NULL UNIQUE,
      endpoints TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT
    )`);
    this.#tokenByHash = this.#db.prepare('SELECT * FROM tokens WHERE hash = ?');
    this.#dataVersion = this.#db.prepare('PRAGMA data_version').pluck();
  }

  /** A number that changes whenever another connection (`omnimind token revoke`, say) commits a change. */
  dataVersion(): number {
    return this.#dataVersion.get() as number;
  }

  /** Stores a new token; false when one of that name exists. */
  addToken(record: TokenRecord): boolean {
    const result = this.#db
      .prepare('INSERT OR IGNORE INTO tokens (name, hash, endpoints, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(record.name, record.hash, JSON.stringify(record.endpoints), record.createdAt, record.expiresAt);
    return result.changes === 1;
  }

  /** The token whose secret hashes to `hash`, read afresh each time (a revoked token is gone at once). */
  findToken(hash: string): TokenRecord | undefined {
    const row = this.#tokenByHash.get(hash) as Record<string, unknown> | undefined;
    return row === undefined ? undefined : tokenOf(row);
  }

  /** The token of a name, or undefined once revoked. */
  findTokenByName(name: string): TokenRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM tokens WHERE name = ?').get(name) as
      | Record<string, unknown>
      | undefined;
    return row === undefined ? undefined : tokenOf(row);
  }

  /** Every token, by name. */
  listTokens(): TokenRecord[] {
    const rows = this.#db.prepare('SELECT * FROM tokens ORDER BY name').all() as Array<Record<string, unknown>>;
    return rows.map(tokenOf);
  }

  /** Deletes a token; false when there is none of that name. */
  revokeToken(name: string): boolean {
    return this.#db.prepare('DELETE FROM tokens WHERE name = ?').run(name).changes === 1;
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

function tokenOf(row: Record<string, unknown>): TokenRecord {
  return {
    name: String(row.name),
    hash: String(row.hash),
    endpoints: JSON.parse(String(row.endpoints)) as string[],
    createdAt: String(row.created_at),
    expiresAt: row.expires_at === null ? null : String(row.expires_at),
  };
}

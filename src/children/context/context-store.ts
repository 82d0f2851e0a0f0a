import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { applySchema } from '../shared/store.js';
import { MAX_EPHEMERAL_CONTEXTS } from './limits.js';

/** The levels a context is filed under; `ephemeral` lives in memory only and is lost when the server stops. */
export const CONTEXT_LEVELS = ['project', 'session', 'task', 'code', 'memory', 'audit', 'ephemeral'] as const;

/** One of CONTEXT_LEVELS. */
export type ContextLevel = (typeof CONTEXT_LEVELS)[number];

/** A stored context. `score` is its bm25 rank (lower is better) when it was found by a query. */
export interface StoredContext {
  id: string;
  level: ContextLevel;
  content: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  score?: number;
}

/** A context as list_contexts shows it: its content cut to a preview. */
export interface ContextSummary {
  id: string;
  level: ContextLevel;
  createdAt: string;
  chars: number;
  preview: string;
}

/** A saved copy of every persistent context. */
export interface Snapshot {
  snapshotId: string;
  name: string;
  createdAt: string;
  contexts: number;
}

/** Options of ContextStore. */
export interface ContextStoreOptions {
  /** The clock stamping contexts and snapshots. */
  now?: () => Date;
  /** Most ephemeral contexts kept; the oldest is dropped beyond it. */
  maxEphemeral?: number;
}

/** The file name of the context store inside the data directory. */
export const CONTEXT_DB_FILE = 'context.db';

/** The schema version this module writes; bumped with every change to the schema below. */
const SCHEMA_VERSION = 1;

/** Characters of content list_contexts shows per context. */
const PREVIEW_CHARS = 200;

/** Words of a query: runs of letters, marks and digits, as the unicode61 tokenizer splits text. */
const QUERY_WORD = /[\p{L}\p{M}\p{N}]+/gu;

/** The in-memory database holding ephemeral contexts, attached beside the file-backed one. */
const EPHEMERAL = 'eph';
const PERSISTENT = 'main';
type Schema = typeof EPHEMERAL | typeof PERSISTENT;

function contextTablesSql(schema: Schema): string {
  return `
CREATE TABLE IF NOT EXISTS ${schema}.contexts (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  level TEXT NOT NULL,
  content TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${schema}.contexts_by_level ON contexts(level, seq);
CREATE VIRTUAL TABLE IF NOT EXISTS ${schema}.context_fts
  USING fts5(content, tokenize = 'porter unicode61 remove_diacritics 2');`;
}

const SNAPSHOT_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS main.snapshots (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  context_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS main.snapshot_contexts (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  level TEXT NOT NULL,
  content TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, seq)
);`;

interface ContextRow {
  seq: number;
  id: string;
  level: ContextLevel;
  content: string;
  metadata: string;
  created_at: string;
  score?: number;
}

interface SnapshotRow {
  id: string;
  name: string;
  created_at: string;
  context_count: number;
}

/** Turns free text into an FTS5 expression matching any of its words, each quoted so no word is an operator. */
export function toFtsQuery(query: string): string | undefined {
  const words = query.match(QUERY_WORD);
  return words ? words.map((w) => `"${w}"`).join(' OR ') : undefined;
}

function toContext(row: ContextRow): StoredContext {
  const context: StoredContext = {
    id: row.id,
    level: row.level,
    content: row.content,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAt: row.created_at,
  };
  if (row.score !== undefined) context.score = row.score;
  return context;
}

function toSnapshot(row: SnapshotRow): Snapshot {
  return { snapshotId: row.id, name: row.name, createdAt: row.created_at, contexts: row.context_count };
}

/** Newest first: by creation time, then by insertion order within one database. */
function byNewest(a: ContextRow, b: ContextRow): number {
  return b.created_at.localeCompare(a.created_at) || b.seq - a.seq;
}

/** The schemas a level filter reaches. */
function schemasFor(level: ContextLevel | undefined): Schema[] {
  if (level === undefined) return [PERSISTENT, EPHEMERAL];
  return level === 'ephemeral' ? [EPHEMERAL] : [PERSISTENT];
}

/** Leveled contexts: persistent levels in SQLite on disk, `ephemeral` in an attached in-memory database. */
export class ContextStore {
  readonly #db: Database.Database;
  readonly #now: () => Date;
  readonly #maxEphemeral: number;

  constructor(db: Database.Database, options: ContextStoreOptions = {}) {
    const maxEphemeral = options.maxEphemeral ?? MAX_EPHEMERAL_CONTEXTS;
    if (!Number.isInteger(maxEphemeral) || maxEphemeral < 1) {
      throw new TypeError(`Expected \`maxEphemeral\` to be an integer >= 1, got \`${maxEphemeral}\``);
    }
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#maxEphemeral = maxEphemeral;
    // Sorts and temporary indices stay in RAM too, so ephemeral text never reaches a temporary file.
    db.pragma('temp_store = MEMORY');
    db.exec(`ATTACH DATABASE ':memory:' AS ${EPHEMERAL}`);
    applySchema(
      db,
      'context',
      SCHEMA_VERSION,
      contextTablesSql(PERSISTENT) + contextTablesSql(EPHEMERAL) + SNAPSHOT_TABLES_SQL,
    );
  }

  /** Files a new context under `level` and returns it. */
  store(level: ContextLevel, content: string, metadata: Record<string, unknown> = {}): StoredContext {
    const schema: Schema = level === 'ephemeral' ? EPHEMERAL : PERSISTENT;
    return this.#db.transaction(() => {
      const context: StoredContext = { id: randomUUID(), level, content, metadata, createdAt: this.#stamp() };
      this.#insert(schema, context);
      if (schema === EPHEMERAL) this.#evictEphemeral();
      return context;
    })();
  }

  /** Contexts matching `query` (best bm25 first) or, without a query, the newest first; optionally of one level. */
  retrieve(options: { level?: ContextLevel; query?: string; limit: number }): StoredContext[] {
    const { level, query, limit } = options;
    const match = query === undefined ? undefined : toFtsQuery(query);
    if (query !== undefined && match === undefined) {
      throw new Error(`The query ${JSON.stringify(query)} has no words to search for: use letters or digits`);
    }
    return this.#db.transaction(() => {
      const rows = schemasFor(level).flatMap((schema) =>
        match === undefined ? this.#newest(schema, level, limit) : this.#search(schema, level, match, limit),
      );
      rows.sort(match === undefined ? byNewest : (a, b) => (a.score ?? 0) - (b.score ?? 0));
      return rows.slice(0, limit).map(toContext);
    })();
  }

  /** One page of contexts (newest first), how many match the level filter, and the count of every level. */
  list(options: { level?: ContextLevel; limit: number; offset: number }): {
    total: number;
    levels: Record<ContextLevel, number>;
    contexts: ContextSummary[];
  } {
    const { level, limit, offset } = options;
    return this.#db.transaction(() => {
      const levels = Object.fromEntries(CONTEXT_LEVELS.map((l) => [l, 0])) as Record<ContextLevel, number>;
      for (const schema of [PERSISTENT, EPHEMERAL] as const) {
        const counts = this.#db
          .prepare<[], { level: ContextLevel; n: number }>(
            `SELECT level, count(*) AS n FROM ${schema}.contexts GROUP BY level`,
          )
          .all();
        for (const { level: l, n } of counts) levels[l] = (levels[l] ?? 0) + n;
      }
      const rows = schemasFor(level).flatMap((schema) => this.#newest(schema, level, offset + limit));
      rows.sort(byNewest);
      const total = level === undefined ? Object.values(levels).reduce((a, b) => a + b, 0) : levels[level];
      const contexts = rows.slice(offset, offset + limit).map((row) => ({
        id: row.id,
        level: row.level,
        createdAt: row.created_at,
        chars: row.content.length,
        preview: row.content.slice(0, PREVIEW_CHARS),
      }));
      return { total, levels, contexts };
    })();
  }

  /** Deletes one context by id, persistent or ephemeral; true when it existed. */
  delete(id: string): boolean {
    return this.#db.transaction(() =>
      ([PERSISTENT, EPHEMERAL] as const).some((schema) => this.#deleteFrom(schema, id)),
    )();
  }

  /** Saves a copy of every persistent context under `name` (default: `snapshot-<time>`). */
  snapshot(name?: string): Snapshot {
    return this.#db.transaction(() => {
      const createdAt = this.#stamp();
      const chosen = name ?? this.#freeSnapshotName(`snapshot-${createdAt}`);
      if (this.#findSnapshot(chosen)) {
        throw new Error(`A snapshot named \`${chosen}\` already exists: choose another name or delete it first`);
      }
      const id = randomUUID();
      const count = this.#db.prepare('SELECT count(*) FROM main.contexts').pluck().get() as number;
      this.#db
        .prepare('INSERT INTO main.snapshots (id, name, created_at, context_count) VALUES (?, ?, ?, ?)')
        .run(id, chosen, createdAt, count);
      this.#db
        .prepare(
          `INSERT INTO main.snapshot_contexts (snapshot_id, seq, id, level, content, metadata, created_at)
           SELECT ?, seq, id, level, content, metadata, created_at FROM main.contexts`,
        )
        .run(id);
      return { snapshotId: id, name: chosen, createdAt, contexts: count };
    })();
  }

  /** Replaces every persistent context with a snapshot's (by id or name); ephemeral contexts are kept. */
  restore(snapshot: string): Snapshot & { replaced: number } {
    return this.#db.transaction(() => {
      const row = this.#findSnapshot(snapshot);
      if (!row) throw new Error(`No snapshot with id or name \`${snapshot}\`: list_snapshots shows them`);
      const replaced = this.#db.prepare('SELECT count(*) FROM main.contexts').pluck().get() as number;
      this.#db.exec('DELETE FROM main.contexts; DELETE FROM main.context_fts;');
      const saved = this.#db
        .prepare<[string], ContextRow>(
          `SELECT seq, id, level, content, metadata, created_at FROM main.snapshot_contexts
           WHERE snapshot_id = ? ORDER BY seq`,
        )
        .all(row.id);
      for (const context of saved) this.#insertRow(PERSISTENT, context);
      return { ...toSnapshot(row), replaced };
    })();
  }

  /** Every snapshot, newest first. */
  listSnapshots(): Snapshot[] {
    return this.#db
      .prepare<[], SnapshotRow>(
        'SELECT id, name, created_at, context_count FROM main.snapshots ORDER BY created_at DESC, rowid DESC',
      )
      .all()
      .map(toSnapshot);
  }

  /** Deletes a snapshot by id or name; true when it existed. */
  deleteSnapshot(snapshot: string): boolean {
    return this.#db.transaction(() => {
      const row = this.#findSnapshot(snapshot);
      if (row) this.#db.prepare('DELETE FROM main.snapshots WHERE id = ?').run(row.id);
      return row !== undefined;
    })();
  }

  #stamp(): string {
    return this.#now().toISOString();
  }

  #insert(schema: Schema, context: StoredContext): void {
    this.#insertRow(schema, {
      seq: 0,
      id: context.id,
      level: context.level,
      content: context.content,
      metadata: JSON.stringify(context.metadata),
      created_at: context.createdAt,
    });
  }

  /** Inserts a row (its seq is assigned anew) and indexes its content. */
  #insertRow(schema: Schema, row: ContextRow): void {
    const seq = this.#db
      .prepare(`INSERT INTO ${schema}.contexts (id, level, content, metadata, created_at) VALUES (?, ?, ?, ?, ?)`)
      .run(row.id, row.level, row.content, row.metadata, row.created_at).lastInsertRowid;
    this.#db.prepare(`INSERT INTO ${schema}.context_fts (rowid, content) VALUES (?, ?)`).run(seq, row.content);
  }

  #deleteFrom(schema: Schema, id: string): boolean {
    const seq = this.#db.prepare(`DELETE FROM ${schema}.contexts WHERE id = ? RETURNING seq`).pluck().get(id) as
      | number
      | undefined;
    if (seq === undefined) return false;
    this.#db.prepare(`DELETE FROM ${schema}.context_fts WHERE rowid = ?`).run(seq);
    return true;
  }

  /** Drops the oldest ephemeral contexts beyond the cap. */
  #evictEphemeral(): void {
    const excess =
      (this.#db.prepare(`SELECT count(*) FROM ${EPHEMERAL}.contexts`).pluck().get() as number) - this.#maxEphemeral;
    if (excess <= 0) return;
    const oldest = this.#db
      .prepare(`SELECT id FROM ${EPHEMERAL}.contexts ORDER BY seq LIMIT ?`)
      .pluck()
      .all(excess) as string[];
    for (const id of oldest) this.#deleteFrom(EPHEMERAL, id);
  }

  #newest(schema: Schema, level: ContextLevel | undefined, limit: number): ContextRow[] {
    return this.#db
      .prepare<{ level: ContextLevel | null; limit: number }, ContextRow>(
        `SELECT seq, id, level, content, metadata, created_at FROM ${schema}.contexts
         WHERE @level IS NULL OR level = @level ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ level: level ?? null, limit });
  }

  #search(schema: Schema, level: ContextLevel | undefined, match: string, limit: number): ContextRow[] {
    return this.#db
      .prepare<{ match: string; level: ContextLevel | null; limit: number }, ContextRow>(
        `SELECT c.seq, c.id, c.level, c.content, c.metadata, c.created_at, bm25(context_fts) AS score
         FROM ${schema}.context_fts JOIN ${schema}.contexts AS c ON c.seq = context_fts.rowid
         WHERE context_fts MATCH @match AND (@level IS NULL OR c.level = @level) ORDER BY score LIMIT @limit`,
      )
      .all({ match, level: level ?? null, limit });
  }

  #findSnapshot(idOrName: string): SnapshotRow | undefined {
    return this.#db
      .prepare<{ key: string }, SnapshotRow>(
        'SELECT id, name, created_at, context_count FROM main.snapshots WHERE id = @key OR name = @key ORDER BY id = @key DESC LIMIT 1',
      )
      .get({ key: idOrName });
  }

  #freeSnapshotName(base: string): string {
    let name = base;
    for (let n = 2; this.#findSnapshot(name); n++) name = `${base}-${n}`;
    return name;
  }
}

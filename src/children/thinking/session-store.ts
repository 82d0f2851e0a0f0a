import type Database from 'better-sqlite3';
import { applySchema } from '../shared/store.js';

/** One thinking step, with the reference server's argument names. */
export interface ThoughtInput {
  thought: string;
  thoughtNumber: number;
  totalThoughts: number;
  nextThoughtNeeded: boolean;
  isRevision?: boolean;
  revisesThought?: number;
  branchFromThought?: number;
  branchId?: string;
  needsMoreThoughts?: boolean;
}

/** A stored thought: its input (totalThoughts raised to thoughtNumber when lower) and when it was recorded. */
export interface StoredThought extends ThoughtInput {
  createdAt: string;
}

/** What sequentialthinking answers, exactly as the reference server shapes it. */
export interface ThoughtReceipt {
  thoughtNumber: number;
  totalThoughts: number;
  nextThoughtNeeded: boolean;
  branches: string[];
  thoughtHistoryLength: number;
}

/** A session's summary. */
export interface SessionSummary {
  sessionId: string;
  createdAt: string;
  updatedAt: string;
  thoughtCount: number;
  branches: string[];
  /** True for the session that thoughts without a sessionId go to in this run. */
  current: boolean;
}

/** A whole session. */
export interface SessionDetail extends SessionSummary {
  thoughts: StoredThought[];
}

/** One branch: where it left the main line and the thoughts recorded on it. */
export interface Branch {
  branchId: string;
  branchFromThought: number;
  thoughts: StoredThought[];
}

/** Options of SessionStore. */
export interface SessionStoreOptions {
  /** The id used when a thought names no session (one per server run). */
  currentSessionId: string;
  /** The clock stamping sessions and thoughts. */
  now?: () => Date;
}

/** The file name of the thinking store inside the data directory. */
export const THINKING_DB_FILE = 'thinking.db';

/** The schema version this module writes; bumped with every change to SCHEMA_SQL. */
const SCHEMA_VERSION = 1;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  thought_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_update ON sessions(updated_at);
CREATE TABLE IF NOT EXISTS thoughts (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  thought TEXT NOT NULL,
  thought_number INTEGER NOT NULL,
  total_thoughts INTEGER NOT NULL,
  next_thought_needed INTEGER NOT NULL,
  is_revision INTEGER,
  revises_thought INTEGER,
  branch_from_thought INTEGER,
  branch_id TEXT,
  needs_more_thoughts INTEGER,
  created_at TEXT NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS branches (
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  branch_id TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  branch_from_thought INTEGER NOT NULL,
  PRIMARY KEY (session_id, branch_id)
);
`;

interface SessionRow {
  id: string;
  created_at: string;
  updated_at: string;
  thought_count: number;
}

interface ThoughtRow {
  thought: string;
  thought_number: number;
  total_thoughts: number;
  next_thought_needed: number;
  is_revision: number | null;
  revises_thought: number | null;
  branch_from_thought: number | null;
  branch_id: string | null;
  needs_more_thoughts: number | null;
  created_at: string;
}

function toFlag(value: boolean | undefined): number | null {
  return value === undefined ? null : Number(value);
}

function toThought(row: ThoughtRow): StoredThought {
  const thought: StoredThought = {
    thought: row.thought,
    thoughtNumber: row.thought_number,
    totalThoughts: row.total_thoughts,
    nextThoughtNeeded: row.next_thought_needed === 1,
    createdAt: row.created_at,
  };
  if (row.is_revision !== null) thought.isRevision = row.is_revision === 1;
  if (row.revises_thought !== null) thought.revisesThought = row.revises_thought;
  if (row.branch_from_thought !== null) thought.branchFromThought = row.branch_from_thought;
  if (row.branch_id !== null) thought.branchId = row.branch_id;
  if (row.needs_more_thoughts !== null) thought.needsMoreThoughts = row.needs_more_thoughts === 1;
  return thought;
}

/** Thinking sessions kept in SQLite; every public method is one transaction. */
export class SessionStore {
  readonly #db: Database.Database;
  readonly #now: () => Date;
  readonly #stmt;
  /** The session thoughts without a sessionId go to. */
  readonly currentSessionId: string;

  constructor(db: Database.Database, options: SessionStoreOptions) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.currentSessionId = options.currentSessionId;
    applySchema(db, 'thinking', SCHEMA_VERSION, SCHEMA_SQL);
    const thoughtColumns =
      'thought, thought_number, total_thoughts, next_thought_needed, is_revision, revises_thought, ' +
      'branch_from_thought, branch_id, needs_more_thoughts, created_at';
    this.#stmt = {
      session: db.prepare<[string], SessionRow>(
        'SELECT id, created_at, updated_at, thought_count FROM sessions WHERE id = ?',
      ),
      insertSession: db.prepare<[string, string, string]>(
        'INSERT OR IGNORE INTO sessions (id, created_at, updated_at) VALUES (?, ?, ?)',
      ),
      bumpSession: db
        .prepare<[string, string], number>(
          'UPDATE sessions SET thought_count = thought_count + 1, updated_at = ? WHERE id = ? RETURNING thought_count',
        )
        .pluck(),
      insertThought: db.prepare(
        `INSERT INTO thoughts (session_id, seq, ${thoughtColumns})
         VALUES (@sessionId, @seq, @thought, @thoughtNumber, @totalThoughts, @nextThoughtNeeded, @isRevision,
                 @revisesThought, @branchFromThought, @branchId, @needsMoreThoughts, @createdAt)`,
      ),
      insertBranch: db.prepare<[string, string, number, number]>(
        'INSERT OR IGNORE INTO branches (session_id, branch_id, first_seq, branch_from_thought) VALUES (?, ?, ?, ?)',
      ),
      branchIds: db
        .prepare<[string], string>('SELECT branch_id FROM branches WHERE session_id = ? ORDER BY first_seq')
        .pluck(),
      branches: db.prepare<[string], { branch_id: string; branch_from_thought: number }>(
        'SELECT branch_id, branch_from_thought FROM branches WHERE session_id = ? ORDER BY first_seq',
      ),
      thoughts: db.prepare<[string], ThoughtRow>(
        `SELECT ${thoughtColumns} FROM thoughts WHERE session_id = ? ORDER BY seq`,
      ),
      branchThoughts: db.prepare<[string, string], ThoughtRow>(
        `SELECT ${thoughtColumns} FROM thoughts WHERE session_id = ? AND branch_id = ? ORDER BY seq`,
      ),
      page: db.prepare<[number, number], SessionRow>(
        `SELECT id, created_at, updated_at, thought_count FROM sessions
         ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`,
      ),
      count: db.prepare<[], number>('SELECT count(*) FROM sessions').pluck(),
      deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    };
  }

  /** Records a thought in a session (the current one when none is named), creating the session if new. */
  addThought(input: ThoughtInput, sessionId: string = this.currentSessionId): ThoughtReceipt {
    return this.#db.transaction(() => {
      const stamp = this.#now().toISOString();
      const totalThoughts = Math.max(input.totalThoughts, input.thoughtNumber);
      this.#stmt.insertSession.run(sessionId, stamp, stamp);
      const seq = this.#stmt.bumpSession.get(stamp, sessionId) as number;
      this.#stmt.insertThought.run({
        sessionId,
        seq,
        thought: input.thought,
        thoughtNumber: input.thoughtNumber,
        totalThoughts,
        nextThoughtNeeded: Number(input.nextThoughtNeeded),
        isRevision: toFlag(input.isRevision),
        revisesThought: input.revisesThought ?? null,
        branchFromThought: input.branchFromThought ?? null,
        branchId: input.branchId ?? null,
        needsMoreThoughts: toFlag(input.needsMoreThoughts),
        createdAt: stamp,
      });
      // The reference server opens a branch only when both the branch point and a non-empty id are given.
      if (input.branchFromThought && input.branchId) {
        this.#stmt.insertBranch.run(sessionId, input.branchId, seq, input.branchFromThought);
      }
      return {
        thoughtNumber: input.thoughtNumber,
        totalThoughts,
        nextThoughtNeeded: input.nextThoughtNeeded,
        branches: this.#stmt.branchIds.all(sessionId),
        thoughtHistoryLength: seq,
      };
    })();
  }

  /** One page of sessions, most recently updated first, and how many there are in all. */
  listSessions(limit: number, offset: number): { sessions: SessionSummary[]; total: number } {
    return this.#db.transaction(() => ({
      sessions: this.#stmt.page.all(limit, offset).map((row) => this.#summarize(row)),
      total: this.#stmt.count.get() as number,
    }))();
  }

  /** A whole session with its thoughts in order, or undefined when there is no such session. */
  getSession(sessionId: string = this.currentSessionId): SessionDetail | undefined {
    return this.#db.transaction(() => {
      const row = this.#stmt.session.get(sessionId);
      if (!row) return undefined;
      return { ...this.#summarize(row), thoughts: this.#stmt.thoughts.all(sessionId).map(toThought) };
    })();
  }

  /** A session's branches (or only `branchId`) with their thoughts, or undefined when there is no such session. */
  getBranches(sessionId: string = this.currentSessionId, branchId?: string): Branch[] | undefined {
    return this.#db.transaction(() => {
      if (!this.#stmt.session.get(sessionId)) return undefined;
      return this.#stmt.branches
        .all(sessionId)
        .filter((row) => branchId === undefined || row.branch_id === branchId)
        .map((row) => ({
          branchId: row.branch_id,
          branchFromThought: row.branch_from_thought,
          thoughts: this.#stmt.branchThoughts.all(sessionId, row.branch_id).map(toThought),
        }));
    })();
  }

  /** Removes a session and its thoughts; true when it existed. */
  deleteSession(sessionId: string): boolean {
    return this.#db.transaction(() => this.#stmt.deleteSession.run(sessionId).changes > 0)();
  }

  #summarize(row: SessionRow): SessionSummary {
    return {
      sessionId: row.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      thoughtCount: row.thought_count,
      branches: this.#stmt.branchIds.all(row.id),
      current: row.id === this.currentSessionId,
    };
  }
}

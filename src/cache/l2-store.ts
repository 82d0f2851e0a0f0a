import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { deriveRowHash } from './key.js';
import type { L2Stats, L2Tier } from './types.js';

/** Bumped whenever the tables change shape; a file with another version is recreated (it only holds a cache). */
const SCHEMA_VERSION = 1;

/** SQLite's default page size, set explicitly because the size cap is computed in pages. */
const PAGE_BYTES = 4096;

/** A WAL frame is one page plus its 24-byte header. */
const WAL_FRAME_BYTES = PAGE_BYTES + 24;

/** Share of the size cap reserved for the -wal file: 1/8 leaves most of the room to entries. */
const WAL_SHARE = 1 / 8;

/** Lower bound of the WAL budget: 256 KiB still batches a few dozen rows per transaction under a small cap. */
const MIN_WAL_BYTES = 256 * 1024;

/** Upper bound of the WAL budget: larger transactions than 4 MiB buy no throughput for a response cache. */
const MAX_WAL_BYTES = 4 * 1024 * 1024;

/** Eviction brings the live pages down to this share of the database budget, so it runs once per ~15% of churn. */
const LOW_WATER_SHARE = 0.85;

/**
 * Pages any transaction may touch besides the leaves counted per operation: interior pages of the table and of the
 * index, the table's last leaf, a freelist trunk and the pointer-map pages that auto_vacuum keeps.
 */
const FIXED_PAGES_PER_TXN = 8;

/** Usable bytes of a table leaf page after its header and cell pointers, for the per-row page estimate. */
const USABLE_PAGE_BYTES = PAGE_BYTES - 64;

/** A flush scheduled off the hot path runs at most this many transactions before yielding to the event loop. */
const MAX_TXNS_PER_TICK = 8;

/** Waiting longer than this for a lock would stall the gateway; the file is exclusively ours when it works. */
const BUSY_TIMEOUT_MS = 200;

/**
 * Entries waiting for the disk beyond 1 MiB are dropped: the flush is behind, and queueing more would only grow
 * memory and the pause of a synchronous flush (close, clear).
 */
const MAX_QUEUE_BYTES = 1024 * 1024;

/** Smallest accepted cap: below 1 MiB the WAL reserve leaves too few pages for useful transactions. */
export const MIN_L2_MAX_BYTES = 1024 * 1024;

/** SQLite result codes that mean the file is damaged rather than busy or unwritable. */
const CORRUPTION_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** SQLite result codes that mean another connection holds the file. */
const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);

/** One entry as L2 returns it. */
export interface L2Row {
  id: number;
  child: string;
  gen: number;
  storedAt: number;
  json: string;
}

/** One entry to store. */
export interface L2Entry {
  key: string;
  child: string;
  gen: number;
  storedAt: number;
  json: string;
  /** UTF-8 length of `json`. */
  bytes: number;
}

/** What L2 remembers about a child between runs. */
export interface L2ChildRecord {
  gen: number;
  fingerprint: string | null;
}

/** Options of an `L2Store`. */
export interface L2StoreOptions {
  file: string;
  maxBytes: number;
  now: () => number;
  warn: (message: string) => void;
}

type QueuedOp =
  | { op: 'put'; entry: L2Entry; rowHash: number; pages: number; cancelled: boolean }
  | { op: 'delete'; id: number }
  | { op: 'purge'; child: string; keepGen: number };

/** The prepared statements of an open file. */
type Statements = ReturnType<typeof prepareStatements>;

/** Prepares every statement L2 runs; rows come back as arrays (`raw`) or single values (`pluck`). */
function prepareStatements(db: Database.Database) {
  return {
    get: db
      .prepare<[number], [number, string, string, number, number, string]>(
        'SELECT id, key, child, gen, stored_at, json FROM entries WHERE row_hash = ?',
      )
      .raw(),
    put: db.prepare<[number, string, string, number, number, string]>(
      'INSERT OR REPLACE INTO entries (row_hash, key, child, gen, stored_at, json) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteId: db.prepare<[number]>('DELETE FROM entries WHERE id = ?'),
    deleteHash: db.prepare<[number]>('DELETE FROM entries WHERE row_hash = ?'),
    purgeChunk: db.prepare<[string, number, number]>(
      'DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE child = ? AND gen != ? LIMIT ?)',
    ),
    clearChildChunk: db
      .prepare<[string, number], string>(
        'DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE child = ? LIMIT ?) RETURNING key',
      )
      .pluck(),
    clearChunk: db
      .prepare<[number], string>('DELETE FROM entries WHERE id IN (SELECT id FROM entries LIMIT ?) RETURNING key')
      .pluck(),
    evictChunk: db.prepare<[number]>('DELETE FROM entries WHERE id IN (SELECT id FROM entries ORDER BY id LIMIT ?)'),
    count: db.prepare<[], number>('SELECT count(*) FROM entries').pluck(),
    pageCount: db.prepare<[], number>('PRAGMA page_count').pluck(),
    freePages: db.prepare<[], number>('PRAGMA freelist_count').pluck(),
    children: db.prepare<[], [string, number, string | null]>('SELECT child, gen, fingerprint FROM children').raw(),
    writeChild: db.prepare<[string, number, string | null]>(
      'INSERT OR REPLACE INTO children (child, gen, fingerprint) VALUES (?, ?, ?)',
    ),
  };
}

/** Whether an error is an SQLite error of one of these codes or of their extended codes. */
function hasCode(error: unknown, codes: Set<string>): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  for (const family of codes) if (code === family || code.startsWith(`${family}_`)) return true;
  return false;
}

/** Deletes the cache file and its companions, ignoring failures (the caller already reports the cause). */
function removeFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      rmSync(`${file}${suffix}`, { force: true });
    } catch {
      // Nothing more can be done about a file that cannot be removed.
    }
  }
}

/** The message of anything thrown. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The size of a file, 0 if it does not exist. */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * L2: a better-sqlite3 file that survives restarts. Writes are queued and flushed on `setImmediate` in bounded
 * transactions; after each one the live pages are checked against the cap and the oldest rows are evicted in chunks.
 * The file is opened with an exclusive lock, so SQLite keeps the WAL index in memory and no -shm file exists.
 * Every SQLite error is handled here: a damaged file is moved aside and recreated, anything else turns L2 off.
 */
export class L2Store implements L2Tier {
  readonly kind = 'sqlite';
  readonly #file: string;
  readonly #now: () => number;
  readonly #warn: (message: string) => void;
  readonly #walBytes: number;
  readonly #checkpointFrames: number;
  readonly #txnPages: number;
  readonly #dbMaxPages: number;
  readonly #highWaterPages: number;
  readonly #lowWaterPages: number;
  readonly #chunkRows: number;
  readonly #maxEntryBytes: number;
  #db: Database.Database | undefined;
  #statements: Statements | undefined;
  #queue: QueuedOp[] = [];
  #queueHead = 0;
  #queueBytes = 0;
  #scheduled: NodeJS.Immediate | undefined;
  #recreated = false;
  #evictions = 0;

  constructor(options: L2StoreOptions) {
    this.#file = options.file;
    this.#now = options.now;
    this.#warn = options.warn;
    this.#walBytes = Math.min(MAX_WAL_BYTES, Math.max(MIN_WAL_BYTES, Math.floor(options.maxBytes * WAL_SHARE)));
    const walFrames = Math.floor(this.#walBytes / WAL_FRAME_BYTES);
    // The WAL holds at most the frames before an automatic checkpoint plus the transaction that crossed the line.
    this.#checkpointFrames = Math.floor(walFrames / 2);
    this.#txnPages = walFrames - this.#checkpointFrames - 1;
    this.#dbMaxPages = Math.floor((options.maxBytes - this.#walBytes) / PAGE_BYTES);
    this.#highWaterPages = this.#dbMaxPages - this.#txnPages;
    this.#lowWaterPages = Math.floor(this.#dbMaxPages * LOW_WATER_SHARE);
    // Evicting the oldest rows touches one index leaf per row and the few table leaves that hold them in order.
    this.#chunkRows = Math.max(1, Math.floor((this.#txnPages - FIXED_PAGES_PER_TXN) / 2));
    this.#maxEntryBytes = Math.floor((this.#txnPages - FIXED_PAGES_PER_TXN - 2) * USABLE_PAGE_BYTES);
    this.#db = this.#open();
  }

  /** Whether L2 is in use (false after it could not be opened, after a failure, and after `close`). */
  get enabled(): boolean {
    return this.#db !== undefined;
  }

  /** Largest `json` (UTF-8 bytes) an entry may have to go to L2: one entry must fit one bounded transaction. */
  get maxEntryBytes(): number {
    return this.#maxEntryBytes;
  }

  /** Generations and tool-list fingerprints recorded by earlier runs. */
  readChildren(): Map<string, L2ChildRecord> {
    const records = new Map<string, L2ChildRecord>();
    const statements = this.#statements;
    if (statements === undefined) return records;
    try {
      for (const [child, gen, fingerprint] of statements.children.all()) records.set(child, { gen, fingerprint });
    } catch (error) {
      this.#fail(error, 'reading child records');
    }
    return records;
  }

  /**
   * Records a child's generation synchronously: a bump must be on disk before any later entry, or a crash could
   * bring back rows from before a write. If it cannot be written, L2 is turned off and its file removed.
   */
  writeChild(child: string, record: L2ChildRecord): void {
    const statements = this.#statements;
    if (statements === undefined) return;
    try {
      statements.writeChild.run(child, record.gen, record.fingerprint);
    } catch (error) {
      this.#fail(error, 'recording a generation');
    }
  }

  /** Point read of one key; a row whose stored key differs (a hash collision) is a miss. */
  get(key: string): L2Row | undefined {
    const statements = this.#statements;
    if (statements === undefined) return undefined;
    try {
      const row = statements.get.get(deriveRowHash(key));
      if (row === undefined || row[1] !== key) return undefined;
      return { id: row[0], child: row[2], gen: row[3], storedAt: row[4], json: row[5] };
    } catch (error) {
      this.#fail(error, 'reading an entry');
      return undefined;
    }
  }

  /** Queues an entry; returns false if it is too large for L2 or the queue is full (the flush cannot keep up). */
  put(entry: L2Entry): boolean {
    if (this.#db === undefined || entry.bytes > this.#maxEntryBytes) return false;
    const size = entry.bytes + entry.key.length;
    if (this.#queueBytes + size > MAX_QUEUE_BYTES) return false;
    this.#queueBytes += size;
    // Rows are appended, so a row fills its share of the table's last leaves (or its overflow pages), plus one
    // index leaf at a random place. A row it replaces was deleted by an earlier queued op, counted there.
    const pages = 1 + size / USABLE_PAGE_BYTES;
    this.#enqueue({ op: 'put', entry, rowHash: deriveRowHash(entry.key), pages, cancelled: false });
    return true;
  }

  /** Queues the removal of a row found stale. */
  deleteRow(id: number): void {
    if (this.#db !== undefined) this.#enqueue({ op: 'delete', id });
  }

  /** Queues the removal of a child's rows from generations other than `keepGen`. */
  purgeChild(child: string, keepGen: number): void {
    if (this.#db !== undefined) this.#enqueue({ op: 'purge', child, keepGen });
  }

  /** Removes one key now, together with any queued write of it. */
  deleteKey(key: string): void {
    const statements = this.#statements;
    if (statements === undefined) return;
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      const op = this.#queue[i]!;
      if (op.op === 'put' && !op.cancelled && op.entry.key === key) {
        op.cancelled = true;
        this.#queueBytes -= op.entry.bytes + op.entry.key.length;
      }
    }
    try {
      statements.deleteHash.run(deriveRowHash(key));
    } catch (error) {
      this.#fail(error, 'deleting an entry');
    }
  }

  /** Removes every row, or a child's rows, now; returns their keys. */
  clear(child?: string): string[] {
    this.flush();
    const removed: string[] = [];
    const statements = this.#statements;
    if (statements === undefined) return removed;
    try {
      for (;;) {
        const keys =
          child === undefined
            ? statements.clearChunk.all(this.#chunkRows)
            : statements.clearChildChunk.all(child, this.#chunkRows);
        removed.push(...keys);
        if (keys.length < this.#chunkRows) break;
      }
    } catch (error) {
      this.#fail(error, 'clearing entries');
    }
    return removed;
  }

  /** Number of rows written (queued entries are not counted until flushed). */
  count(): number {
    const statements = this.#statements;
    if (statements === undefined) return 0;
    try {
      return statements.count.get() ?? 0;
    } catch (error) {
      this.#fail(error, 'counting entries');
      return 0;
    }
  }

  /** Rows evicted (oldest first) to keep the file within its budget, since creation. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Bytes on disk: the database, its -wal file, and a -shm file if another program left one. */
  bytes(): number {
    if (this.#db === undefined) return 0;
    return sizeOf(this.#file) + sizeOf(`${this.#file}-wal`) + sizeOf(`${this.#file}-shm`);
  }

  /** Entries and bytes on disk, as `omnimind status` shows them. */
  stats(): L2Stats {
    return { kind: this.kind, entries: this.count(), bytes: this.bytes() };
  }

  /** Writes everything queued now. */
  flush(): void {
    this.#drain(Number.POSITIVE_INFINITY);
  }

  /** Flushes, checkpoints and closes the file; idempotent. */
  close(): void {
    this.flush();
    const db = this.#db;
    this.#db = undefined;
    this.#statements = undefined;
    if (db === undefined) return;
    try {
      db.close();
    } catch (error) {
      this.#warn(`Could not close the response cache file ${this.#file}: ${describe(error)}`);
    }
  }

  #enqueue(op: QueuedOp): void {
    this.#queue.push(op);
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined;
      this.#drain(MAX_TXNS_PER_TICK);
    });
  }

  /** Runs up to `maxTxns` bounded transactions from the queue, enforcing the cap after each. */
  #drain(maxTxns: number): void {
    let txns = 0;
    while (this.#queueHead < this.#queue.length && txns < maxTxns) {
      const statements = this.#statements;
      if (statements === undefined) break;
      try {
        this.#runOneTransaction(statements, this.#db!);
        this.#enforceCap(statements, this.#db!);
      } catch (error) {
        this.#fail(error, 'writing entries');
      }
      txns++;
    }
    if (this.#queueHead >= this.#queue.length || this.#statements === undefined) {
      this.#queue = [];
      this.#queueHead = 0;
      this.#queueBytes = 0;
      if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    } else {
      this.#scheduled ??= setImmediate(() => {
        this.#scheduled = undefined;
        this.#drain(MAX_TXNS_PER_TICK);
      });
    }
  }

  /** Takes the next ops that fit the page budget off the queue and applies them in one transaction. */
  #runOneTransaction(statements: Statements, db: Database.Database): void {
    const first = this.#queue[this.#queueHead]!;
    if (first.op === 'purge') {
      const { changes } = statements.purgeChunk.run(first.child, first.keepGen, this.#chunkRows);
      if (changes < this.#chunkRows) this.#queueHead++;
      return;
    }
    let pages = FIXED_PAGES_PER_TXN;
    let end = this.#queueHead;
    while (end < this.#queue.length) {
      const op = this.#queue[end]!;
      if (op.op === 'purge') break;
      // A row deleted by id sits on a table leaf and an index leaf of its own.
      const cost = op.op === 'put' ? op.pages : 2;
      if (end > this.#queueHead && pages + cost > this.#txnPages) break;
      pages += cost;
      end++;
    }
    const start = this.#queueHead;
    this.#queueHead = end;
    db.transaction(() => {
      for (let i = start; i < end; i++) {
        const op = this.#queue[i]!;
        if (op.op === 'put') {
          if (op.cancelled) continue;
          const { entry } = op;
          this.#queueBytes -= entry.bytes + entry.key.length;
          statements.put.run(op.rowHash, entry.key, entry.child, entry.gen, entry.storedAt, entry.json);
        } else if (op.op === 'delete') {
          statements.deleteId.run(op.id);
        }
      }
    })();
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Keeps the database within its page budget: evicts the oldest rows, then gives back pages beyond the budget. */
  #enforceCap(statements: Statements, db: Database.Database): void {
    let pageCount = statements.pageCount.get() ?? 0;
    let live = pageCount - (statements.freePages.get() ?? 0);
    if (live > this.#highWaterPages) {
      while (live > this.#lowWaterPages) {
        const evicted = statements.evictChunk.run(this.#chunkRows).changes;
        if (evicted === 0) break;
        this.#evictions += evicted;
        live = (statements.pageCount.get() ?? 0) - (statements.freePages.get() ?? 0);
      }
    }
    if (pageCount <= this.#dbMaxPages) return;
    // Only after the cap was lowered or the file grew elsewhere: move pages down and truncate, a chunk at a time.
    const vacuumChunk = Math.max(1, Math.floor(this.#txnPages / 4));
    while (pageCount > this.#dbMaxPages) {
      db.pragma(`incremental_vacuum(${Math.min(vacuumChunk, pageCount - this.#dbMaxPages)})`);
      const next = statements.pageCount.get() ?? 0;
      if (next >= pageCount) break;
      pageCount = next;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Opens the file, moving it aside and starting afresh if it is damaged; undefined means memory only. */
  #open(): Database.Database | undefined {
    try {
      return this.#openAt();
    } catch (error) {
      if (hasCode(error, BUSY_CODES)) {
        this.#warn(`The response cache file ${this.#file} is locked by another process; caching in memory only.`);
        return undefined;
      }
      return this.#recreate(error);
    }
  }

  /** Moves a damaged file aside and opens a new one; undefined (memory only) if even that fails. */
  #recreate(cause: unknown): Database.Database | undefined {
    this.#recreated = true;
    const aside = `${this.#file}.corrupt-${new Date(this.#now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.#file, aside);
      // A -wal file left beside a new database would be replayed into it.
      for (const suffix of ['-wal', '-shm']) rmSync(`${this.#file}${suffix}`, { force: true });
      this.#warn(
        `The response cache file ${this.#file} could not be read (${describe(cause)}); moved it to ${aside} and started an empty one.`,
      );
      return this.#openAt();
    } catch (error) {
      this.#warn(
        `The response cache file ${this.#file} could not be read (${describe(cause)}) nor replaced (${describe(error)}); caching in memory only.`,
      );
      return undefined;
    }
  }

  /** Opens and prepares the file; one with another schema version is deleted and created anew, once. */
  #openAt(allowReset = true): Database.Database {
    mkdirSync(dirname(this.#file), { recursive: true });
    const db = new Database(this.#file, { timeout: BUSY_TIMEOUT_MS });
    try {
      if (this.#configure(db)) {
        this.#statements = prepareStatements(db);
        this.#enforceCap(this.#statements, db);
        return db;
      }
    } catch (error) {
      this.#statements = undefined;
      db.close();
      throw error;
    }
    db.close();
    if (!allowReset) throw new Error('the file keeps another schema version after being recreated');
    removeFiles(this.#file);
    this.#warn(`The response cache file ${this.#file} had another format; started an empty one.`);
    return this.#openAt(false);
  }

  /** Sets the pragmas and creates the tables; returns false for a file of another schema version. */
  #configure(db: Database.Database): boolean {
    // Exclusive locking before WAL: SQLite then keeps the WAL index in memory (no -shm file) and no one else writes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma(`page_size = ${PAGE_BYTES}`);
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') {
      throw Object.assign(new Error(`integrity check failed: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    }
    const version = db.pragma('user_version', { simple: true });
    const tables = db.prepare<[], number>("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get();
    if (tables !== 0 && (version !== SCHEMA_VERSION || db.pragma('auto_vacuum', { simple: true }) !== 2)) return false;
    db.pragma(`journal_size_limit = ${this.#walBytes}`);
    db.pragma(`wal_autocheckpoint = ${this.#checkpointFrames}`);
    // An ordinary rowid table: ids grow with insertion, so the oldest rows are the lowest ids and appends are cheap.
    db.exec(`
      CREATE TABLE IF NOT EXISTS entries (
        id INTEGER PRIMARY KEY,
        row_hash INTEGER NOT NULL UNIQUE,
        key TEXT NOT NULL,
        child TEXT NOT NULL,
        gen INTEGER NOT NULL,
        stored_at INTEGER NOT NULL,
        json TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS children (
        child TEXT PRIMARY KEY,
        gen INTEGER NOT NULL,
        fingerprint TEXT
      );
    `);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return true;
  }

  /** Handles an SQLite error: a damaged file is replaced once, anything else turns L2 off and removes the file. */
  #fail(error: unknown, action: string): void {
    const db = this.#db;
    this.#db = undefined;
    this.#statements = undefined;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queueBytes = 0;
    try {
      db?.close();
    } catch {
      // The handle is being dropped either way.
    }
    if (hasCode(error, CORRUPTION_CODES) && !this.#recreated) {
      this.#db = this.#recreate(error);
      return;
    }
    // Rows may now disagree with the recorded generations, so the file must not outlive this run.
    removeFiles(this.#file);
    this.#warn(
      `The response cache file ${this.#file} failed while ${action} (${describe(error)}); caching in memory only.`,
    );
  }
}

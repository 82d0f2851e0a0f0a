import Database from 'better-sqlite3';
import { collectRows, type RowCaps } from './json-rows.js';
import type { QueryOutcome, QueryRequest, RowSet, RunnerOptions } from './query-protocol.js';
import { isAttachLimit, sealConnection } from './seal-connection.js';

/** How long a statement waits for another connection's lock (ms); the query timeout still bounds the whole call. */
const BUSY_TIMEOUT_MS = 5_000;

const SAVEPOINT = 'omnimind_create_table';

const READ_REFUSED =
  'read_query only runs statements that leave the database unchanged, and SQLite reports that this one would change it. Use write_query for INSERT, UPDATE, DELETE and other changes.';
const NOT_A_READER =
  'read_query expects a statement that returns rows (SELECT, WITH … SELECT, VALUES, a PRAGMA that reports a value); this one returns none. ATTACH, DETACH, BEGIN/COMMIT and setting PRAGMAs are not available here.';
const WRITE_REFUSED =
  'write_query expects a statement that changes the database (INSERT, UPDATE, DELETE, CREATE, DROP, ALTER …), and SQLite reports that this one does not. Use read_query for SELECT; transaction control (BEGIN, COMMIT), ATTACH and DETACH are not available.';
const CREATE_REFUSED =
  'create_table only runs a CREATE TABLE statement, and this one does something else; nothing was changed. Use write_query for other changes.';
const OTHER_FILE_REFUSED =
  'This statement would open a database file besides the configured one (ATTACH, VACUUM, VACUUM INTO), and the sqlite child only ever reads and writes its configured database; nothing was changed.';
const READ_ONLY_DATABASE =
  'The database is read-only (`readOnly: true` in the sqlite child config), so writes are refused. Use read_query, list_tables or describe_table.';

/** Runs one request against the database file with a fresh connection, so no state carries over between calls. */
export function executeRequest(request: QueryRequest, options: RunnerOptions, caps?: RowCaps): QueryOutcome {
  switch (request.kind) {
    case 'read':
      return withRecovery(options, () => ({ type: 'rows', ...readQuery(options.database, requireSql(request), caps) }));
    case 'list':
      return withRecovery(options, () => ({
        type: 'rows',
        ...readPrepared(options.database, "SELECT name FROM sqlite_master WHERE type='table'", [], caps),
      }));
    case 'describe':
      return withRecovery(options, () => ({ type: 'rows', ...describeTable(options.database, request.table, caps) }));
    case 'write':
      refuseIfReadOnly(options);
      return writeQuery(options.database, requireSql(request), caps);
    case 'create':
      refuseIfReadOnly(options);
      return createTable(options.database, requireSql(request));
  }
}

function requireSql(request: QueryRequest): string {
  if (typeof request.sql !== 'string' || request.sql.trim() === '') {
    throw new Error('Expected `query` to be a non-empty SQL statement.');
  }
  return request.sql;
}

function refuseIfReadOnly(options: RunnerOptions): void {
  if (options.readOnly) throw new Error(READ_ONLY_DATABASE);
}

/**
 * Opens a sealed connection (it can reach no file but the database); a read-only one is opened with
 * SQLITE_OPEN_READONLY, so SQLite itself refuses every write.
 */
function openConnection(database: string, readonly: boolean): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(database, { readonly, fileMustExist: true });
  } catch (error) {
    throw new Error(`Cannot open the database ${database}: ${(error as Error).message}`);
  }
  try {
    sealConnection(db);
  } catch (error) {
    db.close();
    throw error;
  }
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.defaultSafeIntegers(true);
  return db;
}

function withConnection<T>(database: string, readonly: boolean, body: (db: Database.Database) => T): T {
  const db = openConnection(database, readonly);
  try {
    return body(db);
  } catch (error) {
    throw isAttachLimit(error) ? new Error(OTHER_FILE_REFUSED) : error;
  } finally {
    db.close();
  }
}

/**
 * A read-only connection cannot roll back the journal a killed writer left behind (SQLITE_READONLY_ROLLBACK).
 * When writes are allowed, a read-write connection recovers the file once and the read is retried.
 */
function withRecovery<T>(options: RunnerOptions, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (options.readOnly || (error as { code?: unknown }).code !== 'SQLITE_READONLY_ROLLBACK') throw error;
    withConnection(options.database, false, (db) => db.prepare('SELECT count(*) FROM sqlite_schema').get());
    return body();
  }
}

/** Prepares exactly one statement; several statements in one string are refused before anything runs. */
function prepareOne(db: Database.Database, sql: string): Database.Statement {
  try {
    return db.prepare(sql);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new Error(`Expected exactly one SQL statement per call: ${error.message}. Send each statement separately.`);
    }
    throw error;
  }
}

function readQuery(database: string, sql: string, caps?: RowCaps): RowSet {
  return withConnection(database, true, (db) => {
    const stmt = prepareOne(db, sql);
    if (!stmt.readonly) throw new Error(READ_REFUSED);
    if (!stmt.reader) throw new Error(NOT_A_READER);
    return collectRows(stmt.iterate(), caps);
  });
}

function readPrepared(database: string, sql: string, params: unknown[], caps?: RowCaps): RowSet {
  return withConnection(database, true, (db) => collectRows(db.prepare(sql).iterate(...params), caps));
}

function describeTable(database: string, table: string | undefined, caps?: RowCaps): RowSet {
  if (typeof table !== 'string' || table === '') throw new Error('Expected `table_name` to be a non-empty table name.');
  const rows = readPrepared(database, 'SELECT * FROM pragma_table_info(?)', [table], caps);
  if (rows.rowCount === 0) throw new Error(`Table \`${table}\` does not exist. Use list_tables to see the tables.`);
  return rows;
}

function writeQuery(database: string, sql: string, caps?: RowCaps): QueryOutcome {
  return withConnection(database, false, (db) => {
    const stmt = prepareOne(db, sql);
    if (stmt.readonly) throw new Error(WRITE_REFUSED);
    if (!stmt.reader) {
      const info = stmt.run();
      return { type: 'write', affectedRows: Number(info.changes), returning: null };
    }
    // With RETURNING, SQLite makes every change on the first step, so a capped read still applies them all.
    const returning = collectRows(stmt.iterate(), caps);
    const changes = db.prepare('SELECT changes() AS n').get() as { n: bigint };
    return { type: 'write', affectedRows: Number(changes.n), returning };
  });
}

type SchemaSnapshot = Map<string, { type: string; name: string; table: string; sql: string | null }>;

function readSchema(db: Database.Database): SchemaSnapshot {
  const rows = db.prepare('SELECT type, name, tbl_name AS "table", sql FROM sqlite_schema').all() as {
    type: string;
    name: string;
    table: string;
    sql: string | null;
  }[];
  return new Map(rows.map((row) => [`${row.type}\0${row.name}`, row]));
}

function totalChanges(db: Database.Database): bigint {
  return (db.prepare('SELECT total_changes() AS n').get() as { n: bigint }).n;
}

/**
 * Runs the statement inside a savepoint and keeps it only if it added tables (with their own indexes) and touched
 * nothing else: what the statement is, is judged by what SQLite did, not by reading its text.
 */
function createTable(database: string, sql: string): QueryOutcome {
  return withConnection(database, false, (db) => {
    const stmt = prepareOne(db, sql);
    if (stmt.readonly || stmt.reader) throw new Error(CREATE_REFUSED);
    const before = readSchema(db);
    const changesBefore = totalChanges(db);
    db.exec(`SAVEPOINT ${SAVEPOINT}`);
    let created: string[];
    try {
      stmt.run();
      created = judgeCreation(before, readSchema(db), totalChanges(db) !== changesBefore);
    } catch (error) {
      rollBackQuietly(db);
      throw error;
    }
    db.exec(`RELEASE ${SAVEPOINT}`);
    return { type: 'create', created };
  });
}

function rollBackQuietly(db: Database.Database): void {
  try {
    db.exec(`ROLLBACK TO ${SAVEPOINT}`);
  } catch {
    // SQLite already rolled the transaction back; closing the connection ends whatever is left.
  }
}

/** The tables a statement created, or a refusal when it changed anything else. */
function judgeCreation(before: SchemaSnapshot, after: SchemaSnapshot, rowsChanged: boolean): string[] {
  const created = addedTables(before, after);
  if (created === null) {
    if (rowsChanged) throw new Error(CREATE_REFUSED);
    return [];
  }
  if (created.length === 0) throw new Error(CREATE_REFUSED);
  return created;
}

/**
 * The names of the tables added between two snapshots, or null when nothing was added. An empty list means the
 * schema changed in some other way: an entry removed or altered, or something other than a table and its indexes.
 */
function addedTables(before: SchemaSnapshot, after: SchemaSnapshot): string[] | null {
  for (const [key, entry] of before) {
    if (after.get(key)?.sql !== entry.sql) return [];
  }
  const added = [...after].filter(([key]) => !before.has(key)).map(([, entry]) => entry);
  if (added.length === 0) return null;
  const tables = added.filter((entry) => entry.type === 'table').map((entry) => entry.name);
  const onlyTables = added.every(
    (entry) => entry.type === 'table' || (entry.type === 'index' && tables.includes(entry.table)),
  );
  return onlyTables ? tables : [];
}

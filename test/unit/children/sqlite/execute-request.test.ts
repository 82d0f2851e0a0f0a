import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeRequest } from '../../../../src/children/sqlite/execute-request.js';
import type { QueryOutcome } from '../../../../src/children/sqlite/query-protocol.js';

let dir: string;
let database: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-sqlite-unit-'));
  database = join(dir, 'db.sqlite');
  const db = new Database(database);
  db.exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE); INSERT INTO t(b) VALUES ('one'), ('two');");
  db.close();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const rw = () => ({ database, readOnly: false });

function read(sql: string): unknown {
  const outcome = executeRequest({ id: 1, kind: 'read', sql }, rw());
  if (outcome.type !== 'rows') throw new Error('expected rows');
  return JSON.parse(outcome.json);
}

function schema(): unknown[] {
  const db = new Database(database, { readonly: true });
  const entries = db.prepare('SELECT type, name FROM sqlite_schema ORDER BY name').all();
  db.close();
  return entries;
}

describe('executeRequest', () => {
  it('refuses every statement that would open another file, on every path, and creates none', () => {
    const target = join(dir, 'copy.sqlite');
    const statements = [`VACUUM INTO '${target}'`, `ATTACH '${target}' AS x`, 'DETACH omnimind_sealed_0', 'VACUUM'];
    for (const sql of statements) {
      for (const kind of ['read', 'write', 'create'] as const) {
        expect(() => executeRequest({ id: 1, kind, sql }, rw()), `${kind} ${sql}`).toThrow();
      }
    }
    expect(() => executeRequest({ id: 1, kind: 'write', sql: `VACUUM INTO '${target}'` }, rw())).toThrow(
      'only ever reads and writes its configured database',
    );
    expect(existsSync(target)).toBe(false);
    expect(read('SELECT b FROM t ORDER BY a')).toEqual([{ b: 'one' }, { b: 'two' }]);
  });

  it('reads rows and refuses anything SQLite reports as a write or as returning no rows', () => {
    expect(read('SELECT b FROM t ORDER BY a')).toEqual([{ b: 'one' }, { b: 'two' }]);
    const refusals: [string, string][] = [
      ['WITH x AS (SELECT 1) DELETE FROM t', 'leave the database unchanged'],
      ['EXPLAIN DELETE FROM t', 'leave the database unchanged'],
      ["INSERT INTO t(b) VALUES ('x') RETURNING a", 'leave the database unchanged'],
      ['PRAGMA user_version = 1', 'leave the database unchanged'],
      [`ATTACH '${join(dir, 'other.sqlite')}' AS other`, 'returns none'],
      ['PRAGMA query_only = 0', 'returns none'],
      ['BEGIN', 'returns none'],
      ['BEGIN IMMEDIATE', 'leave the database unchanged'],
      ['SELECT 1; SELECT 2', 'Expected exactly one SQL statement'],
    ];
    for (const [sql, message] of refusals) {
      expect(() => executeRequest({ id: 1, kind: 'read', sql }, rw()), sql).toThrow(message);
    }
    expect(existsSync(join(dir, 'other.sqlite'))).toBe(false);
    expect(read('SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
  });

  it('writes, reporting affected rows and RETURNING rows, and refuses statements that write nothing', () => {
    const outcome = executeRequest({ id: 1, kind: 'write', sql: "UPDATE t SET b = b || '!'" }, rw());
    expect(outcome).toEqual({ type: 'write', affectedRows: 2, returning: null });
    const returning = executeRequest({ id: 2, kind: 'write', sql: "INSERT INTO t(b) VALUES ('x') RETURNING a" }, rw());
    expect(returning).toMatchObject({ type: 'write', affectedRows: 1, returning: { json: '[{"a":3}]', rowCount: 1 } });
    for (const sql of ['SELECT 1', 'BEGIN', `ATTACH '${join(dir, 'x.sqlite')}' AS x`, 'DETACH x']) {
      expect(() => executeRequest({ id: 3, kind: 'write', sql }, rw()), sql).toThrow('write_query expects');
    }
  });

  it('keeps a CREATE TABLE (even with auto indexes or AS SELECT) and rolls back anything else', () => {
    const create = (sql: string): QueryOutcome => executeRequest({ id: 1, kind: 'create', sql }, rw());
    expect(create('CREATE TABLE u(x UNIQUE, y)')).toEqual({ type: 'create', created: ['u'] });
    expect(create('CREATE TABLE v AS SELECT * FROM t')).toEqual({ type: 'create', created: ['v'] });
    expect(create('CREATE TABLE IF NOT EXISTS u(x)')).toEqual({ type: 'create', created: [] });
    const before = schema();
    for (const sql of [
      "INSERT INTO t(b) VALUES ('x')",
      'DROP TABLE u',
      'CREATE INDEX t_b2 ON t(b)',
      'CREATE VIEW w AS SELECT 1',
    ]) {
      expect(() => create(sql), sql).toThrow('create_table only runs a CREATE TABLE statement');
    }
    expect(schema()).toEqual(before);
    expect(read('SELECT count(*) AS n FROM t')).toEqual([{ n: 2 }]);
  });

  it('refuses writes on a read-only database before opening it for writing', () => {
    const readOnly = { database, readOnly: true };
    expect(() => executeRequest({ id: 1, kind: 'write', sql: 'DELETE FROM t' }, readOnly)).toThrow('read-only');
    expect(() => executeRequest({ id: 1, kind: 'create', sql: 'CREATE TABLE u(x)' }, readOnly)).toThrow('read-only');
    expect(executeRequest({ id: 1, kind: 'list' }, readOnly)).toMatchObject({ json: '[{"name":"t"}]' });
  });

  it('describes a table and says when it does not exist', () => {
    const outcome = executeRequest({ id: 1, kind: 'describe', table: 't' }, rw());
    expect(outcome.type === 'rows' && JSON.parse(outcome.json).map((c: { name: string }) => c.name)).toEqual([
      'a',
      'b',
    ]);
    expect(() => executeRequest({ id: 1, kind: 'describe', table: 'nope' }, rw())).toThrow(
      'Table `nope` does not exist',
    );
    expect(() => executeRequest({ id: 1, kind: 'describe', table: '' }, rw())).toThrow('table_name');
  });

  it('recovers the journal a killed writer left behind before reading, when writes are allowed', () => {
    const writer = new Database(database);
    writer.pragma('cache_size = 1');
    writer.exec('BEGIN');
    const insert = writer.prepare('INSERT INTO t(b) VALUES (hex(randomblob(2000)) || ?)');
    for (let i = 0; i < 2_000; i++) insert.run(i);
    // Copy the file and its hot journal as a crash would leave them, while the transaction is still open.
    const crashed = [join(dir, 'crashed-rw.sqlite'), join(dir, 'crashed-ro.sqlite')];
    for (const copy of crashed) {
      copyFileSync(database, copy);
      copyFileSync(`${database}-journal`, `${copy}-journal`);
    }
    writer.exec('ROLLBACK');
    writer.close();
    const sql = 'SELECT count(*) AS n FROM t';
    const recovered = executeRequest({ id: 1, kind: 'read', sql }, { database: crashed[0]!, readOnly: false });
    expect(recovered).toMatchObject({ json: '[{"n":2}]' });
    expect(() => executeRequest({ id: 1, kind: 'read', sql }, { database: crashed[1]!, readOnly: true })).toThrow(
      'readonly',
    );
  });
});

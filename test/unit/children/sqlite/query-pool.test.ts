import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueryPool, type QueryPoolOptions } from '../../../../src/children/sqlite/query-pool.js';

/** The compiled runner, as the sqlite child forks it. */
const RUNNER = resolve('dist/src/children/sqlite/query-runner.js');

let dir: string;
let database: string;
let pool: QueryPool | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-query-pool-'));
  database = join(dir, 'db.sqlite');
  const db = new Database(database);
  db.exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t(b) VALUES ('one'), ('two');");
  db.close();
});

afterEach(async () => {
  await pool?.close();
  pool = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function createPool(options: Partial<QueryPoolOptions> = {}): QueryPool {
  pool = new QueryPool({
    runnerPath: RUNNER,
    runner: { database, readOnly: false },
    size: 2,
    timeoutMs: 30_000,
    maxQueue: 8,
    maxMemoryBytes: 512 * 1024 * 1024,
    idleMs: 60_000,
    ...options,
  });
  return pool;
}

describe('QueryPool', () => {
  it('starts no runner until the first query, and one for a single query', async () => {
    const p = createPool();
    expect(p.runners).toBe(0);
    const outcome = await p.run({ kind: 'read', sql: 'SELECT count(*) AS n FROM t' });
    expect(outcome.type === 'rows' && JSON.parse(outcome.json)).toEqual([{ n: 2 }]);
    expect(p.runners).toBe(1);
    await p.run({ kind: 'read', sql: 'SELECT 1' });
    expect(p.runners).toBe(1);
  });

  it('never runs more runners than its size', async () => {
    const p = createPool();
    const runs = Array.from({ length: 6 }, (_, i) => p.run({ kind: 'read', sql: `SELECT ${i} AS i` }));
    expect(p.runners).toBe(2);
    expect((await Promise.all(runs)).length).toBe(6);
    expect(p.runners).toBeLessThanOrEqual(2);
  });

  it('ends a runner left idle, and starts a fresh one for the next query', async () => {
    const p = createPool({ idleMs: 200 });
    await p.run({ kind: 'read', sql: 'SELECT 1' });
    expect(p.runners).toBe(1);
    await vi.waitFor(() => expect(p.runners).toBe(0), { timeout: 30_000, interval: 50 });
    const outcome = await p.run({ kind: 'read', sql: 'SELECT b FROM t ORDER BY a' });
    expect(outcome.type === 'rows' && JSON.parse(outcome.json)).toEqual([{ b: 'one' }, { b: 'two' }]);
  });

  it('does not start a replacement after a query is interrupted', async () => {
    const p = createPool({ timeoutMs: 200 });
    const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
    await expect(p.run({ kind: 'read', sql: endless })).rejects.toThrow(/ran longer than 200 ms/);
    expect(p.runners).toBe(0);
    await expect(p.run({ kind: 'read', sql: 'SELECT 1 AS one' })).resolves.toMatchObject({ type: 'rows' });
  });

  it('rejects an idle time that is not a whole number of ms', () => {
    expect(() => createPool({ idleMs: 0 })).toThrow('Expected `idleMs` to be an integer >= 1, got `0`');
  });
});

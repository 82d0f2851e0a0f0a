import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { builtinChildEntry } from '../../src/config/index.js';
import { waitFor } from '../helpers/harness.js';

const MAIN = builtinChildEntry('sqlite');
const NEVER_ENDING = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';

interface Running {
  client: Client;
  transport: StdioClientTransport;
}

let dir: string;
let running: Running[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-sqlite-'));
});

afterEach(async () => {
  await Promise.all(running.map(({ client }) => client.close()));
  running = [];
  rmSync(dir, { recursive: true, force: true });
});

function childEnv(config: object): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    OMNIMIND_DATA_DIR: join(dir, 'data'),
    OMNIMIND_CHILD_CONFIG: JSON.stringify(config),
  };
}

/** Starts the child; with `umask`, under that file mode mask instead of the test's own. */
async function start(config: object, umask?: string): Promise<Running> {
  const command = umask === undefined ? { command: process.execPath, args: [MAIN] } : underUmask(umask);
  const transport = new StdioClientTransport({ ...command, env: childEnv(config) });
  const client = new Client({ name: 'sqlite-test', version: '1.0.0' });
  await client.connect(transport);
  const started = { client, transport };
  running.push(started);
  return started;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function texts(result: CallToolResult): string[] {
  return result.content.map((block) => (block.type === 'text' ? block.text : ''));
}

function firstText(result: CallToolResult): string {
  return texts(result)[0] ?? '';
}

function rows(result: CallToolResult): unknown[] {
  expect(result.isError, firstText(result)).toBeFalsy();
  return JSON.parse(firstText(result)) as unknown[];
}

async function readMemo(client: Client): Promise<string> {
  const [content] = (await client.readResource({ uri: 'memo://insights' })).contents;
  return content && 'text' in content ? content.text : '';
}

/** A database with one table `t(a, b)` holding two rows, made outside the child. */
function seedDatabase(file: string): void {
  const db = new Database(file);
  db.exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t(b) VALUES ('one'), ('two');");
  db.close();
}

function underUmask(umask: string): { command: string; args: string[] } {
  return { command: 'sh', args: ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, MAIN] };
}

/** Every file under `root` with its bytes, so that any file created, removed or changed shows as a difference. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    files.set(path, entry.isFile() ? readFileSync(path).toString('base64') : 'directory');
  }
  return files;
}

function childPids(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(parent);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('sqlite child', () => {
  it('lists the reference tools with truthful annotations and the insights resource', async () => {
    const { client } = await start({ database: join(dir, 'db.sqlite') });
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(
      ['append_insight', 'create_table', 'describe_table', 'list_tables', 'read_query', 'write_query'].sort(),
    );
    expect(byName.get('read_query')?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(byName.get('list_tables')?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(byName.get('write_query')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.get('create_table')?.annotations).toMatchObject({ readOnlyHint: false });
    expect(byName.get('append_insight')?.annotations).toMatchObject({ readOnlyHint: false });
    expect(byName.get('describe_table')?.inputSchema.required).toEqual(['table_name']);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(['memo://insights']);
  });

  it('holds no query process until the first query, then one', async () => {
    const { client, transport } = await start({ database: join(dir, 'db.sqlite') });
    expect(childPids(transport.pid!)).toEqual([]);
    expect(rows(await call(client, 'read_query', { query: 'SELECT 1 AS one' }))).toEqual([{ one: 1 }]);
    expect(childPids(transport.pid!)).toHaveLength(1);
  });

  it('creates the database file and runs every tool with the reference result texts', async () => {
    const database = join(dir, 'nested', 'folder', 'db.sqlite');
    const { client } = await start({ database });
    expect(existsSync(database)).toBe(true);

    const created = await call(client, 'create_table', {
      query: 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)',
    });
    expect(firstText(created)).toBe('Table created successfully');
    const inserted = await call(client, 'write_query', { query: "INSERT INTO items(name) VALUES ('a'), ('b')" });
    expect(JSON.parse(firstText(inserted))).toEqual([{ affected_rows: 2 }]);
    expect(rows(await call(client, 'read_query', { query: 'SELECT id, name FROM items ORDER BY id' }))).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(rows(await call(client, 'list_tables'))).toEqual([{ name: 'items' }]);
    const columns = rows(await call(client, 'describe_table', { table_name: 'items' })) as { name: string }[];
    expect(columns.map((column) => column.name)).toEqual(['id', 'name']);

    const returning = await call(client, 'write_query', { query: "INSERT INTO items(name) VALUES ('c') RETURNING id" });
    expect(
      texts(returning)
        .slice(0, 2)
        .map((text) => JSON.parse(text)),
    ).toEqual([[{ affected_rows: 1 }], [{ id: 3 }]]);

    expect(await readMemo(client)).toBe('No business insights have been discovered yet.');
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updated.push(notification.params.uri);
    });
    await client.subscribeResource({ uri: 'memo://insights' });
    expect(firstText(await call(client, 'append_insight', { insight: 'Sales doubled' }))).toBe('Insight added to memo');
    await call(client, 'append_insight', { insight: 'Costs fell' });
    const memo = await readMemo(client);
    expect(memo).toContain('- Sales doubled\n- Costs fell');
    expect(memo).toContain('Analysis has revealed 2 key business insights');
    expect(await waitFor(() => updated.length === 2)).toBe(true);
    expect(updated).toEqual(['memo://insights', 'memo://insights']);
  });

  it('returns big integers, blobs and reals as JSON', async () => {
    const { client } = await start({ database: join(dir, 'db.sqlite') });
    const result = rows(
      await call(client, 'read_query', { query: "SELECT 9007199254740993 AS big, x'0102' AS blob, 1.5 AS real" }),
    );
    expect(result).toEqual([{ big: '9007199254740993', blob: { $base64: 'AQI=' }, real: 1.5 }]);
  });

  it('refuses every write through read_query, whatever form it takes', async () => {
    const database = join(dir, 'db.sqlite');
    seedDatabase(database);
    const { client } = await start({ database });
    const attached = join(dir, 'attached.sqlite');
    const attacks = [
      'DELETE FROM t',
      'WITH x AS (SELECT 1) DELETE FROM t',
      "WITH x AS (SELECT 1) INSERT INTO t(b) SELECT 'x' FROM x",
      "UPDATE t SET b = 'changed'",
      "INSERT INTO t(b) VALUES ('three') RETURNING a",
      'PRAGMA user_version = 7',
      'PRAGMA query_only = 0',
      `ATTACH '${attached}' AS other`,
      'DROP TABLE t',
      'CREATE TABLE u(x)',
      'BEGIN',
      'VACUUM',
      'SELECT 1; DELETE FROM t',
    ];
    for (const query of attacks) {
      const result = await call(client, 'read_query', { query });
      expect(result.isError, query).toBe(true);
    }
    const refused = await call(client, 'read_query', { query: 'WITH x AS (SELECT 1) DELETE FROM t' });
    expect(firstText(refused)).toContain('read_query only runs statements that leave the database unchanged');
    const multiple = await call(client, 'read_query', { query: 'SELECT 1; DELETE FROM t' });
    expect(firstText(multiple)).toContain('Expected exactly one SQL statement');
    expect(existsSync(attached)).toBe(false);

    const check = new Database(database, { readonly: true });
    expect(check.prepare('SELECT b FROM t ORDER BY a').pluck().all()).toEqual(['one', 'two']);
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    check.close();

    const extension = await call(client, 'read_query', { query: "SELECT load_extension('/nonexistent/lib')" });
    expect(extension.isError).toBe(true);
    expect(firstText(extension)).toContain('not authorized');
    expect(rows(await call(client, 'read_query', { query: 'PRAGMA user_version' }))).toEqual([{ user_version: 0 }]);
  });

  it('refuses what write_query and create_table are not for, keeping nothing', async () => {
    const database = join(dir, 'db.sqlite');
    seedDatabase(database);
    const { client } = await start({ database });
    for (const query of ['SELECT * FROM t', `ATTACH '${join(dir, 'x.sqlite')}' AS x`, 'BEGIN', 'COMMIT']) {
      const result = await call(client, 'write_query', { query });
      expect(result.isError, query).toBe(true);
      expect(firstText(result)).toContain('write_query expects a statement that changes the database');
    }
    const twoStatements = await call(client, 'write_query', { query: "INSERT INTO t(b) VALUES ('x'); DROP TABLE t" });
    expect(twoStatements.isError).toBe(true);
    for (const query of ["INSERT INTO t(b) VALUES ('x')", 'DROP TABLE t', 'CREATE INDEX t_b ON t(b)', 'SELECT 1']) {
      const result = await call(client, 'create_table', { query });
      expect(result.isError, query).toBe(true);
      expect(firstText(result)).toContain('create_table only runs a CREATE TABLE statement');
    }
    expect(rows(await call(client, 'read_query', { query: 'SELECT count(*) AS n FROM t' }))).toEqual([{ n: 2 }]);
    expect(rows(await call(client, 'list_tables'))).toEqual([{ name: 't' }]);
    const again = await call(client, 'create_table', { query: 'CREATE TABLE IF NOT EXISTS t(a)' });
    expect(again.isError).toBeFalsy();
    expect(firstText(again)).toContain('No table was created');
    const exists = await call(client, 'create_table', { query: 'CREATE TABLE t(a)' });
    expect(firstText(exists)).toContain('already exists');
  });

  it('reads and writes its configured database only: no statement reaches another file', async () => {
    const database = join(dir, 'db.sqlite');
    seedDatabase(database);
    const other = join(dir, 'other.sqlite');
    seedDatabase(other);
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    const outside = join(tmpdir(), `omnimind-sqlite-escape-${process.pid}-${Date.now()}.db`);
    const created = join(dir, 'created.sqlite');
    const extension = resolve('node_modules/better-sqlite3/build/Release/test_extension.node');
    expect(existsSync(extension)).toBe(true);
    const { client } = await start({ database });
    const others = () => [...snapshot(dir)].filter(([path]) => !path.startsWith(database));
    const before = others();
    onTestFinished(() => rmSync(outside, { force: true }));

    const attacks = [
      `VACUUM INTO '${outside}'`,
      `VACUUM INTO '${created}'`,
      `VACUUM INTO '${empty}'`,
      `VACUUM main INTO '${created}'`,
      `VACUUM INTO ('${created}' || '')`,
      `ATTACH '${created}' AS x`,
      `ATTACH DATABASE '${other}' AS o`,
      `ATTACH 'file:${other}?mode=rw' AS o`,
      `SELECT load_extension('${extension}')`,
      `SELECT load_extension('${extension}', 'sqlite3_extension_init')`,
      `INSERT INTO t(b) VALUES ('x'); VACUUM INTO '${created}'`,
      `VACUUM INTO '${created}'; SELECT 1`,
      `/* comment */ VACUUM INTO '${outside}' -- trailing`,
      `ATTACH '${other}' AS o; DELETE FROM o.t`,
      'VACUUM',
    ];
    for (const query of attacks) {
      for (const tool of ['write_query', 'read_query', 'create_table']) {
        const result = await call(client, tool, { query });
        expect(result.isError, `${tool}: ${query}`).toBe(true);
      }
    }
    const vacuum = await call(client, 'write_query', { query: `VACUUM INTO '${outside}'` });
    expect(firstText(vacuum)).toContain('only ever reads and writes its configured database');

    expect(existsSync(outside)).toBe(false);
    expect(others()).toEqual(before);
    expect(rows(await call(client, 'read_query', { query: 'SELECT b FROM t ORDER BY a' }))).toEqual([
      { b: 'one' },
      { b: 'two' },
    ]);
    const written = await call(client, 'write_query', { query: "INSERT INTO t(b) VALUES ('three')" });
    expect(written.isError, firstText(written)).toBeFalsy();
  });

  it('creates its database, folder and journal files for its owner only, whatever the umask', async () => {
    const database = join(dir, 'private', 'db.sqlite');
    const { client } = await start({ database }, '000');
    expect(statSync(database).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'private')).mode & 0o777).toBe(0o700);
    const wal = await call(client, 'write_query', { query: 'PRAGMA journal_mode = WAL' });
    expect(wal.isError, firstText(wal)).toBeFalsy();
    await call(client, 'create_table', { query: 'CREATE TABLE t(a)' });
    // A reader held open keeps the -wal and -shm files in place after the child's write.
    const reader = new Database(database, { readonly: true });
    try {
      reader.prepare('SELECT count(*) FROM t').get();
      expect((await call(client, 'write_query', { query: 'INSERT INTO t VALUES (1)' })).isError).toBeFalsy();
      for (const suffix of ['-wal', '-shm']) expect(statSync(`${database}${suffix}`).mode & 0o777).toBe(0o600);
    } finally {
      reader.close();
    }
  });

  it('answers every bad argument with a tool error', async () => {
    const { client } = await start({ database: join(dir, 'db.sqlite') });
    const cases: [string, Record<string, unknown>][] = [
      ['read_query', {}],
      ['read_query', { query: 42 }],
      ['read_query', { query: '   ' }],
      ['read_query', { query: 'SELEKT nonsense' }],
      ['write_query', { query: '' }],
      ['describe_table', {}],
      ['describe_table', { table_name: 'missing' }],
      ['append_insight', { insight: '' }],
      ['append_insight', { insight: 'x'.repeat(5_000) }],
    ];
    for (const [name, args] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(firstText(result).length).toBeGreaterThan(0);
    }
    const missing = await call(client, 'describe_table', { table_name: 'missing' });
    expect(firstText(missing)).toContain('Table `missing` does not exist');
    expect(rows(await call(client, 'read_query', { query: 'SELECT 1 AS ok' }))).toEqual([{ ok: 1 }]);
  });

  it('in read-only mode refuses every write and leaves the file untouched', async () => {
    const database = join(dir, 'db.sqlite');
    seedDatabase(database);
    const before = readFileSync(database);
    const { client } = await start({ database, readOnly: true });
    const writes: [string, string][] = [
      ['write_query', "INSERT INTO t(b) VALUES ('x')"],
      ['write_query', 'DELETE FROM t'],
      ['write_query', 'PRAGMA user_version = 3'],
      ['create_table', 'CREATE TABLE u(x)'],
      ['read_query', 'WITH x AS (SELECT 1) DELETE FROM t'],
    ];
    for (const [tool, query] of writes) {
      const result = await call(client, tool, { query });
      expect(result.isError, `${tool} ${query}`).toBe(true);
    }
    const refused = await call(client, 'write_query', { query: 'DELETE FROM t' });
    expect(firstText(refused)).toContain('The database is read-only');
    expect(rows(await call(client, 'read_query', { query: 'SELECT count(*) AS n FROM t' }))).toEqual([{ n: 2 }]);
    expect(readFileSync(database).equals(before)).toBe(true);
  });

  it('in read-only mode does not create a missing database and says why it cannot start', () => {
    const database = join(dir, 'missing.sqlite');
    const run = spawnSync(process.execPath, [MAIN], {
      env: childEnv({ database, readOnly: true }),
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Cannot open the database ${database}`);
    expect(run.stderr).toContain('With `readOnly: true` the file must already exist');
    expect(existsSync(database)).toBe(false);
  });

  it('refuses a relative database path with a clear message', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: childEnv({ database: 'relative.db' }),
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Expected `database` to be an absolute path, got `"relative.db"`');
  });

  it('interrupts a query that never ends, answering other calls meanwhile', async () => {
    const { client, transport } = await start({ database: join(dir, 'db.sqlite'), limits: { timeoutMs: 3_000 } });
    let longSettled = false;
    const long = call(client, 'read_query', { query: NEVER_ENDING }).finally(() => {
      longSettled = true;
    });
    const tables = await call(client, 'list_tables');
    expect(tables.isError).toBeFalsy();
    expect(rows(await call(client, 'read_query', { query: 'SELECT 2 AS two' }))).toEqual([{ two: 2 }]);
    expect(longSettled).toBe(false);
    const runnersDuring = childPids(transport.pid!);
    expect(runnersDuring.length).toBe(2);

    const result = await long;
    expect(result.isError).toBe(true);
    expect(firstText(result)).toContain('Query interrupted: it ran longer than 3000 ms');
    // The runner that was stuck in the query is gone: its process was killed, not left spinning.
    expect(await waitFor(() => runnersDuring.some((pid) => !childPids(transport.pid!).includes(pid)))).toBe(true);
    expect(rows(await call(client, 'read_query', { query: 'SELECT 3 AS three' }))).toEqual([{ three: 3 }]);
  });

  it('kills the query process when the client cancels the call', async () => {
    const { client, transport } = await start({ database: join(dir, 'db.sqlite') });
    const controller = new AbortController();
    const pending = client.callTool({ name: 'read_query', arguments: { query: NEVER_ENDING } }, undefined, {
      signal: controller.signal,
    });
    // Runners start on demand: the never-ending query holds one, list_tables starts the other (and gives the query
    // time to reach its runner). Then cancel: the query's runner is killed.
    await call(client, 'list_tables');
    const before = childPids(transport.pid!);
    expect(before).toHaveLength(2);
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(await waitFor(() => before.some((pid) => !childPids(transport.pid!).includes(pid)))).toBe(true);
    expect(rows(await call(client, 'read_query', { query: 'SELECT 1 AS after' }))).toEqual([{ after: 1 }]);
  });

  it('rolls back a write that is interrupted, and reads afterwards see the data as it was', async () => {
    const database = join(dir, 'db.sqlite');
    seedDatabase(database);
    const { client } = await start({ database, limits: { timeoutMs: 1_000 } });
    const endless = `INSERT INTO t(b) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT 'r' || x FROM c`;
    const result = await call(client, 'write_query', { query: endless });
    expect(result.isError).toBe(true);
    expect(firstText(result)).toContain('nothing it changed was kept');
    expect(rows(await call(client, 'read_query', { query: 'SELECT count(*) AS n FROM t' }))).toEqual([{ n: 2 }]);
    const more = await call(client, 'write_query', { query: "INSERT INTO t(b) VALUES ('three')" });
    expect(JSON.parse(firstText(more))).toEqual([{ affected_rows: 1 }]);
  });

  it('caps rows and bytes and says so', async () => {
    const { client } = await start({ database: join(dir, 'db.sqlite') });
    const many = await call(client, 'read_query', {
      query: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 20000) SELECT x FROM c',
    });
    expect(rows(many)).toHaveLength(10_000);
    expect(texts(many)[1]).toContain('only the first 10000 rows are returned');

    const exact = await call(client, 'read_query', {
      query: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 10000) SELECT x FROM c',
    });
    expect(rows(exact)).toHaveLength(10_000);
    expect(texts(exact)).toHaveLength(1);

    const big = await call(client, 'read_query', {
      query: 'SELECT randomblob(600000) AS b UNION ALL SELECT randomblob(600000) UNION ALL SELECT randomblob(600000)',
    });
    expect(rows(big)).toHaveLength(1);
    expect(texts(big)[1]).toContain('Result truncated after 1 rows: the next row would pass the 1 MiB result cap');
  });

  it('stops a query whose process grows past the memory limit', async () => {
    const { client } = await start({ database: join(dir, 'db.sqlite') });
    const huge = await call(client, 'read_query', { query: 'SELECT zeroblob(500000000) AS b' });
    expect(huge.isError).toBe(true);
    expect(firstText(huge)).toContain('Query stopped: its process used more than 512 MiB of memory');
    expect(rows(await call(client, 'read_query', { query: 'SELECT 1 AS alive' }))).toEqual([{ alive: 1 }]);
  });

  it('reads a database whose file is not a database as a clear startup error', () => {
    const database = join(dir, 'not-a-db.sqlite');
    writeFileSync(database, 'plain text, not SQLite '.repeat(100));
    const run = spawnSync(process.execPath, [MAIN], {
      env: childEnv({ database }),
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('file is not a database');
  });
});

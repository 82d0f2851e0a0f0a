import { fileURLToPath } from 'node:url';
import { childDataDir, readChildConfig, serveStdio, startChild } from '../shared/index.js';
import { parseSqliteOptions } from './options.js';
import { prepareDatabase } from './prepare-database.js';
import { QueryPool } from './query-pool.js';
import { createSqliteServer } from './server.js';

/** Query processes: one may be busy with a long query while the other answers the next call. */
const QUERY_PROCESSES = 2;
/** Calls that may wait for a free query process before new ones are refused. */
const MAX_WAITING_QUERIES = 32;
/** Memory one query process may use (512 MiB): far more than a capped result needs, far less than the machine has. */
const MAX_QUERY_MEMORY_BYTES = 512 * 1024 * 1024;
/** A query process unused this long ends (ms): each holds about 50 MB; a fresh one starts in about 0.1 s. */
const QUERY_PROCESS_IDLE_MS = 30_000;

let options: ReturnType<typeof parseSqliteOptions>;
try {
  options = parseSqliteOptions(readChildConfig<Record<string, unknown>>(), () => childDataDir());
  prepareDatabase(options.database, options.readOnly);
} catch (error) {
  process.stderr.write(`omnimind sqlite: ${(error as Error).message}\n`);
  process.exit(1);
}

const pool = new QueryPool({
  runnerPath: fileURLToPath(new URL('./query-runner.js', import.meta.url)),
  runner: { database: options.database, readOnly: options.readOnly },
  size: QUERY_PROCESSES,
  timeoutMs: options.queryTimeoutMs,
  maxQueue: MAX_WAITING_QUERIES,
  maxMemoryBytes: MAX_QUERY_MEMORY_BYTES,
  idleMs: QUERY_PROCESS_IDLE_MS,
});
startChild('sqlite', () =>
  serveStdio(createSqliteServer({ runner: pool, readOnly: options.readOnly }), () => pool.close()),
);

export { executeRequest } from './execute-request.js';
export { InsightMemo, MAX_INSIGHT_CHARS, MAX_INSIGHTS } from './insights.js';
export { collectRows, describeTruncation, type RowCaps, toJsonValue } from './json-rows.js';
export { DEFAULT_DATABASE_FILE, DEFAULT_QUERY_TIMEOUT_MS, parseSqliteOptions, type SqliteOptions } from './options.js';
export { prepareDatabase } from './prepare-database.js';
export { readResidentBytes } from './process-memory.js';
export { type QueryJob, QueryPool, type QueryPoolOptions } from './query-pool.js';
export {
  MAX_RESULT_BYTES,
  MAX_RESULT_ROWS,
  type QueryKind,
  type QueryOutcome,
  type QueryReply,
  type QueryRequest,
  type RowSet,
  type RunnerOptions,
  type TruncationReason,
} from './query-protocol.js';
export {
  createSqliteServer,
  INSIGHTS_URI,
  type QueryRunner,
  SQLITE_SERVER_VERSION,
  type SqliteServerOptions,
} from './server.js';

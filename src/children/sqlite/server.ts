import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { acceptResourceSubscriptions, guardTool, textResult } from '../shared/index.js';
import { InsightMemo, MAX_INSIGHT_CHARS } from './insights.js';
import { describeTruncation } from './json-rows.js';
import type { QueryJob } from './query-pool.js';
import type { QueryOutcome, RowSet } from './query-protocol.js';

/** The version this server reports in `initialize`. */
export const SQLITE_SERVER_VERSION = '0.1.0';

/** The resource holding the insights memo, as the reference server names it. */
export const INSIGHTS_URI = 'memo://insights';

/** What the server needs from a query pool: run one request, honouring cancellation. */
export interface QueryRunner {
  run(request: QueryJob, signal?: AbortSignal): Promise<QueryOutcome>;
}

/** Options of createSqliteServer. */
export interface SqliteServerOptions {
  runner: QueryRunner;
  readOnly: boolean;
}

// read_query is read-only because SQLite itself refuses writes on its read-only connection, so results may be cached.
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const WRITE = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false } as const;
const CREATE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;
const NOTE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;

const CAPS_NOTE = 'Results hold at most 10,000 rows and 1 MiB of JSON; a cut result says so.';

function rowsContent(rows: RowSet): CallToolResult['content'] {
  const note = describeTruncation(rows);
  return note
    ? [
        { type: 'text', text: rows.json },
        { type: 'text', text: note },
      ]
    : [{ type: 'text', text: rows.json }];
}

function expectRows(outcome: QueryOutcome): RowSet {
  if (outcome.type !== 'rows') throw new Error(`Unexpected ${outcome.type} result for a read.`);
  return outcome;
}

function requireQuery(query: string): string {
  if (query.trim() === '') throw new Error('Expected `query` to be a non-empty SQL statement.');
  return query;
}

/** Builds the sqlite MCP server: the reference server's six tools and its insights memo, over `runner`. */
export function createSqliteServer(options: SqliteServerOptions): McpServer {
  const { runner, readOnly } = options;
  const server = new McpServer({ name: 'omnimind-sqlite', version: SQLITE_SERVER_VERSION });
  const subscribers = acceptResourceSubscriptions(server);
  const memo = new InsightMemo();
  const refusedNote = readOnly ? ' Refused here: this database is read-only.' : '';

  server.registerTool(
    'read_query',
    {
      title: 'Read Query',
      description: `Execute a SELECT query on the SQLite database. Only statements that SQLite reports as read-only and returning rows are run, on a read-only connection. ${CAPS_NOTE}`,
      inputSchema: { query: z.string().describe('SELECT SQL query to execute') },
      annotations: READ,
    },
    ({ query }, extra) =>
      guardTool(async () => {
        const rows = expectRows(await runner.run({ kind: 'read', sql: requireQuery(query) }, extra.signal));
        return { content: rowsContent(rows) };
      }),
  );

  server.registerTool(
    'write_query',
    {
      title: 'Write Query',
      description: `Execute an INSERT, UPDATE, or DELETE query on the SQLite database (one statement per call).${refusedNote}`,
      inputSchema: { query: z.string().describe('SQL query to execute') },
      annotations: WRITE,
    },
    ({ query }, extra) =>
      guardTool(async () => {
        const outcome = await runner.run({ kind: 'write', sql: requireQuery(query) }, extra.signal);
        if (outcome.type !== 'write') throw new Error(`Unexpected ${outcome.type} result for a write.`);
        const affected = { type: 'text' as const, text: JSON.stringify([{ affected_rows: outcome.affectedRows }]) };
        return { content: outcome.returning ? [affected, ...rowsContent(outcome.returning)] : [affected] };
      }),
  );

  server.registerTool(
    'create_table',
    {
      title: 'Create Table',
      description: `Create a new table in the SQLite database. The statement is kept only if all it did was create tables.${refusedNote}`,
      inputSchema: { query: z.string().describe('CREATE TABLE SQL statement') },
      annotations: CREATE,
    },
    ({ query }, extra) =>
      guardTool(async () => {
        const outcome = await runner.run({ kind: 'create', sql: requireQuery(query) }, extra.signal);
        if (outcome.type !== 'create') throw new Error(`Unexpected ${outcome.type} result for create_table.`);
        return textResult(
          outcome.created.length > 0
            ? 'Table created successfully'
            : 'No table was created: the statement changed nothing (a table of that name may already exist).',
        );
      }),
  );

  server.registerTool(
    'list_tables',
    {
      title: 'List Tables',
      description: 'List all tables in the SQLite database',
      inputSchema: {},
      annotations: READ,
    },
    (_args, extra) =>
      guardTool(async () => ({ content: rowsContent(expectRows(await runner.run({ kind: 'list' }, extra.signal))) })),
  );

  server.registerTool(
    'describe_table',
    {
      title: 'Describe Table',
      description: 'Get the schema information for a specific table',
      inputSchema: { table_name: z.string().describe('Name of the table to describe') },
      annotations: READ,
    },
    ({ table_name }, extra) =>
      guardTool(async () => {
        const rows = expectRows(await runner.run({ kind: 'describe', table: table_name }, extra.signal));
        return { content: rowsContent(rows) };
      }),
  );

  server.registerTool(
    'append_insight',
    {
      title: 'Append Insight',
      description: `Add a business insight to the memo (memo://insights), at most ${MAX_INSIGHT_CHARS} characters`,
      inputSchema: { insight: z.string().describe('Business insight discovered from data analysis') },
      annotations: NOTE,
    },
    ({ insight }) =>
      guardTool(() => {
        memo.append(insight);
        if (subscribers.has(INSIGHTS_URI)) void server.server.sendResourceUpdated({ uri: INSIGHTS_URI });
        return textResult('Insight added to memo');
      }),
  );

  server.registerResource(
    'insights',
    INSIGHTS_URI,
    {
      title: 'Business Insights Memo',
      description: 'A living document of discovered business insights',
      mimeType: 'text/plain',
    },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: memo.render() }] }),
  );

  return server;
}

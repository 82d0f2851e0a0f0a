/** Most rows one query returns; the rest are dropped and the result says so (enough to read, small enough to send). */
export const MAX_RESULT_ROWS = 10_000;

/**
 * Most bytes of row JSON one query returns (1 MiB). A result travels as a JSON string inside a JSON-RPC frame, where
 * escaping can double it, and the gateway's default frame limit is 4 MiB: 1 MiB leaves room for the worst case.
 */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** What a query runner is asked to do: one tool call's worth of SQL. */
export type QueryKind = 'read' | 'write' | 'create' | 'list' | 'describe';

/** A request sent to a query runner process. */
export interface QueryRequest {
  id: number;
  kind: QueryKind;
  /** The SQL text for `read`, `write` and `create`. */
  sql?: string;
  /** The table for `describe`. */
  table?: string;
}

/** Why a row list was cut short, or null when it is complete. */
export type TruncationReason = 'rows' | 'bytes' | null;

/** Rows as a JSON array text, with how many there are and whether more were dropped. */
export interface RowSet {
  json: string;
  rowCount: number;
  truncated: TruncationReason;
}

/** What one request produced. */
export type QueryOutcome =
  | ({ type: 'rows' } & RowSet)
  | { type: 'write'; affectedRows: number; returning: RowSet | null }
  | { type: 'create'; created: string[] };

/** A runner's answer to one request. */
export type QueryReply = { id: number; ok: true; outcome: QueryOutcome } | { id: number; ok: false; message: string };

/** The options a query runner process starts with (passed as its first argument, JSON). */
export interface RunnerOptions {
  database: string;
  readOnly: boolean;
}

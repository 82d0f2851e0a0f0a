import { MAX_RESULT_BYTES, MAX_RESULT_ROWS, type RowSet, type TruncationReason } from './query-protocol.js';

/** Caps on a row list; the defaults are the documented ones. */
export interface RowCaps {
  maxRows: number;
  maxBytes: number;
}

const DEFAULT_CAPS: RowCaps = { maxRows: MAX_RESULT_ROWS, maxBytes: MAX_RESULT_BYTES };

/** Turns one SQLite value into JSON: integers past 2^53 as strings, blobs as `{"$base64": …}`, non-finite reals as text. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Buffer.isBuffer(value)) return { $base64: value.toString('base64') };
  return value;
}

/** Serialises rows into a JSON array, stopping at the row or byte cap; a row that would cross the byte cap is left out. */
export function collectRows(rows: Iterable<unknown>, caps: RowCaps = DEFAULT_CAPS): RowSet {
  const parts: string[] = [];
  let bytes = 2;
  let truncated: TruncationReason = null;
  for (const row of rows) {
    if (parts.length >= caps.maxRows) {
      truncated = 'rows';
      break;
    }
    const json = JSON.stringify(toJsonRow(row));
    const size = Buffer.byteLength(json) + (parts.length > 0 ? 1 : 0);
    if (bytes + size > caps.maxBytes) {
      truncated = 'bytes';
      break;
    }
    parts.push(json);
    bytes += size;
  }
  return { json: `[${parts.join(',')}]`, rowCount: parts.length, truncated };
}

function toJsonRow(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return toJsonValue(row);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = toJsonValue(value);
  return out;
}

/** A sentence telling the reader that a row list was cut, and why; empty when it was not. */
export function describeTruncation(rows: RowSet, caps: RowCaps = DEFAULT_CAPS): string {
  if (rows.truncated === 'rows') {
    return `Result truncated: only the first ${caps.maxRows} rows are returned. Add a LIMIT or a narrower WHERE clause.`;
  }
  if (rows.truncated === 'bytes') {
    return `Result truncated after ${rows.rowCount} rows: the next row would pass the ${formatSize(caps.maxBytes)} result cap. Select fewer or smaller columns, or add a LIMIT.`;
  }
  return '';
}

function formatSize(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

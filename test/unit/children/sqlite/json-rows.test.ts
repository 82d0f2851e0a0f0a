import { describe, expect, it } from 'vitest';
import { collectRows, describeTruncation, toJsonValue } from '../../../../src/children/sqlite/json-rows.js';

describe('collectRows', () => {
  it('keeps every row under the caps and reports no truncation', () => {
    const rows = collectRows([{ a: 1 }, { a: 2 }], { maxRows: 2, maxBytes: 100 });
    expect(rows).toEqual({ json: '[{"a":1},{"a":2}]', rowCount: 2, truncated: null });
    expect(describeTruncation(rows)).toBe('');
  });

  it('stops at the row cap only when another row exists', () => {
    const rows = collectRows([{ a: 1 }, { a: 2 }, { a: 3 }], { maxRows: 2, maxBytes: 100 });
    expect(rows).toEqual({ json: '[{"a":1},{"a":2}]', rowCount: 2, truncated: 'rows' });
    expect(describeTruncation(rows, { maxRows: 2, maxBytes: 100 })).toContain('only the first 2 rows');
  });

  it('leaves out the row that would pass the byte cap, counting the whole array text', () => {
    const caps = { maxRows: 10, maxBytes: 17 };
    const rows = collectRows([{ a: 1 }, { a: 2 }, { a: 3 }], caps);
    expect(Buffer.byteLength(rows.json)).toBeLessThanOrEqual(17);
    expect(rows).toEqual({ json: '[{"a":1},{"a":2}]', rowCount: 2, truncated: 'bytes' });
    expect(describeTruncation(rows, caps)).toContain('the next row would pass the 17 bytes result cap');
    expect(collectRows([{ a: 'x'.repeat(100) }], caps)).toEqual({ json: '[]', rowCount: 0, truncated: 'bytes' });
  });

  it('stops reading the source once a cap is reached', () => {
    let produced = 0;
    function* endless() {
      for (;;) {
        produced++;
        yield { n: produced };
      }
    }
    expect(collectRows(endless(), { maxRows: 5, maxBytes: 1_000 }).rowCount).toBe(5);
    expect(produced).toBe(6);
  });
});

describe('toJsonValue', () => {
  it('turns SQLite values into lossless JSON', () => {
    expect(toJsonValue(5n)).toBe(5);
    expect(toJsonValue(2n ** 60n)).toBe('1152921504606846976');
    expect(toJsonValue(Buffer.from([1, 2]))).toEqual({ $base64: 'AQI=' });
    expect(toJsonValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(toJsonValue(null)).toBeNull();
    expect(toJsonValue('text')).toBe('text');
  });
});

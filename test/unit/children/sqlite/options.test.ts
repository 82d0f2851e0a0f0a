import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_TIMEOUT_MS, parseSqliteOptions } from '../../../../src/children/sqlite/options.js';

const dataDir = () => '/data';

describe('parseSqliteOptions', () => {
  it('fills in the defaults', () => {
    expect(parseSqliteOptions({}, dataDir)).toEqual({
      database: '/data/sqlite.db',
      readOnly: false,
      queryTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
    });
  });

  it('takes the database, readOnly and the child request limit', () => {
    const options = parseSqliteOptions({ database: '/x/y.db', readOnly: true, limits: { timeoutMs: 500 } }, dataDir);
    expect(options).toEqual({ database: '/x/y.db', readOnly: true, queryTimeoutMs: 500 });
  });

  it('names the bad option and the value it got', () => {
    expect(() => parseSqliteOptions({ database: 'rel.db' }, dataDir)).toThrow(
      'Expected `database` to be an absolute path, got `"rel.db"`',
    );
    expect(() => parseSqliteOptions({ readOnly: 'yes' }, dataDir)).toThrow('Expected `readOnly` to be a boolean');
    expect(() => parseSqliteOptions({ limits: { timeoutMs: 0 } }, dataDir)).toThrow(
      'Expected `limits.timeoutMs` to be an integer >= 1, got `0`',
    );
  });
});

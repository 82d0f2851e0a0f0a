import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAttachLimit, sealConnection } from '../../../../src/children/sqlite/seal-connection.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-sqlite-seal-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sealConnection', () => {
  it('leaves a connection no way to open a second file, whatever runs on it', () => {
    const db = new Database(join(dir, 'db.sqlite'));
    db.exec('CREATE TABLE t(a); INSERT INTO t VALUES (1)');
    sealConnection(db);
    const target = join(dir, 'other.sqlite');
    for (const sql of [`VACUUM INTO '${target}'`, `ATTACH '${target}' AS other`, 'VACUUM']) {
      let refusal: unknown;
      try {
        db.exec(sql);
      } catch (error) {
        refusal = error;
      }
      expect(isAttachLimit(refusal), sql).toBe(true);
    }
    expect(existsSync(target)).toBe(false);
    expect(db.prepare('SELECT a FROM t').pluck().all()).toEqual([1]);
    db.close();
  });

  it('seals a read-only connection the same way', () => {
    const file = join(dir, 'db.sqlite');
    new Database(file).close();
    const db = new Database(file, { readonly: true });
    sealConnection(db);
    expect(() => db.exec(`VACUUM INTO '${join(dir, 'copy.sqlite')}'`)).toThrow('too many attached databases');
    expect(existsSync(join(dir, 'copy.sqlite'))).toBe(false);
    db.close();
  });
});

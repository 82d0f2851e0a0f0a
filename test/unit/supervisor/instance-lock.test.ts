import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInstanceLock, LOCK_FILE } from '../../../src/supervisor/instance-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Another process that reads the lock file (a shared lock, as a racing start holds on its way) for `ms`. */
async function passingReader(file: string, ms: number) {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN'); db.prepare('SELECT count(*) FROM sqlite_master').get();
    console.log('held');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));`;
  const reader = spawn(process.execPath, ['-e', script, file, String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(reader.stdout, 'data');
  return reader;
}

describe('the single-instance lock', () => {
  it('is taken by a start that meets another start passing through, and refused while a supervisor holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-lock-'));
    dirs.push(dir);
    const reader = await passingReader(join(dir, LOCK_FILE), 150);
    const lock = acquireInstanceLock(dir);
    expect(lock).toBeDefined();
    await once(reader, 'exit');
    expect(acquireInstanceLock(dir)).toBeUndefined();
    lock?.release();
    const again = acquireInstanceLock(dir);
    expect(again).toBeDefined();
    again?.release();
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RotatingLogFile, readLastLines } from '../../../src/logs/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'om-log-'));
  dirs.push(dir);
  return dir;
}

describe('RotatingLogFile', () => {
  it('rotates by size and keeps the configured number of generations', () => {
    const path = join(tempDir(), 'a.log');
    const log = new RotatingLogFile(path, { maxBytes: 100, keep: 2 });
    for (let i = 0; i < 10; i++) log.write(`${String(i).repeat(59)}\n`);
    log.close();
    expect(readFileSync(path, 'utf8')).toBe(`${'9'.repeat(59)}\n`);
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(`${'8'.repeat(59)}\n`);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
  });

  it('takes new limits from reconfigure at the next write (a config reload)', () => {
    const path = join(tempDir(), 'r.log');
    const log = new RotatingLogFile(path);
    for (let i = 0; i < 3; i++) log.write(`${String(i).repeat(59)}\n`);
    expect(existsSync(`${path}.1`)).toBe(false);
    log.reconfigure({ maxBytes: 100, keep: 1 });
    for (let i = 3; i < 6; i++) log.write(`${String(i).repeat(59)}\n`);
    log.close();
    expect(readFileSync(path, 'utf8')).toBe(`${'5'.repeat(59)}\n`);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(false);
  });

  it('never throws on a full disk and records the error', () => {
    const log = new RotatingLogFile('/dev/full');
    log.write('hello\n');
    expect(log.lastError).toMatch(/ENOSPC/);
    expect(log.droppedBytes).toBe(6);
  });

  it('reads the last lines of a file', () => {
    const path = join(tempDir(), 'b.log');
    const log = new RotatingLogFile(path);
    for (let i = 0; i < 100; i++) log.write(`line ${i}\n`);
    expect(readLastLines(path, 3)).toEqual(['line 97', 'line 98', 'line 99']);
    expect(readLastLines(join(tempDir(), 'none'), 3)).toEqual([]);
  });
});

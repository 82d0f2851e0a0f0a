import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readHead, readTail, readTextCapped, writeFileAtomic } from '../../../../src/children/filesystem/index.js';

/** Roots that hold every path, for the reads of /dev and /proc files. */
const ANYWHERE = ['/'];

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-fs-io-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('readHead and readTail', () => {
  it('take lines, treating a final newline as the end of the last line', async () => {
    const path = file('t.txt', 'a\nb\nc\n');
    expect(await readHead(path, [dir], 2, 1024)).toBe('a\nb');
    expect(await readHead(path, [dir], 9, 1024)).toBe('a\nb\nc');
    expect(await readTail(path, [dir], 1, 1024)).toBe('c');
    expect(await readTail(path, [dir], 2, 1024)).toBe('b\nc');
    expect(await readTail(path, [dir], 9, 1024)).toBe('a\nb\nc');
    const bare = file('bare.txt', 'a\nb');
    expect(await readTail(bare, [dir], 1, 1024)).toBe('b');
    expect(await readHead(file('empty.txt', ''), [dir], 3, 1024)).toBe('');
    expect(await readTail(join(dir, 'empty.txt'), [dir], 3, 1024)).toBe('');
  });

  it('reads across chunks and keeps multi-byte characters whole', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ünïcødé ${'x'.repeat(40)}`);
    const path = file('long.txt', `${lines.join('\n')}\n`);
    expect(await readTail(path, [dir], 3, 1024 * 1024)).toBe(lines.slice(-3).join('\n'));
    expect(await readHead(path, [dir], 3, 1024 * 1024)).toBe(lines.slice(0, 3).join('\n'));
    expect((await readTail(path, [dir], 4000, 1024 * 1024)).split('\n')).toEqual(lines.slice(-4000));
  });

  it('refuse line counts whose bytes pass the cap', async () => {
    const path = file('wide.txt', `${'x'.repeat(200_000)}\n${'y'.repeat(200_000)}\n`);
    await expect(readHead(path, [dir], 2, 100_000)).rejects.toThrow(/first 2 lines .* exceed the .* read limit/);
    await expect(readTail(path, [dir], 2, 100_000)).rejects.toThrow(/last 2 lines .* exceed the .* read limit/);
  });
});

describe('readTextCapped', () => {
  it('refuses files over the cap, directories and special files', async () => {
    expect(await readTextCapped(file('ok.txt', 'fine'), ANYWHERE, 10)).toBe('fine');
    await expect(readTextCapped(file('big.txt', 'x'.repeat(11)), ANYWHERE, 10)).rejects.toThrow(/11 bytes, over the/);
    mkdirSync(join(dir, 'sub'));
    await expect(readTextCapped(join(dir, 'sub'), ANYWHERE, 10)).rejects.toThrow(/is a directory/);
    await expect(readTextCapped('/dev/zero', ANYWHERE, 10)).rejects.toThrow(/not a regular file/);
  });

  it('reads a file whole, to its end, whatever size it reported when opened', async () => {
    const exact = 'z'.repeat(10);
    expect(await readTextCapped(file('exact.txt', exact), ANYWHERE, 10)).toBe(exact);
    expect(await readTextCapped(file('empty.txt', ''), ANYWHERE, 10)).toBe('');
    // A /proc file reports size 0 yet has content: the read goes on past the size seen at open, in chunks.
    const status = await readTextCapped('/proc/self/status', ANYWHERE, 1024 * 1024);
    expect(status).toMatch(/^Name:/);
    expect(status).toMatch(/VmRSS:[\s\S]*\n$/);
    await expect(readTextCapped('/proc/self/status', ANYWHERE, 100)).rejects.toThrow(/grew past the .* read limit/);
  });
});

describe('writeFileAtomic', () => {
  it('replaces content, keeps permission bits and leaves no temporary file', async () => {
    const path = file('w.txt', 'old');
    chmodSync(path, 0o600);
    await writeFileAtomic(path, [dir], 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomic(join(dir, 'fresh.txt'), [dir], 'hello');
    expect(readFileSync(join(dir, 'fresh.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(dir).sort()).toEqual(['fresh.txt', 'w.txt']);
  });

  it('replaces a link found at the target with a plain file, never taking the link’s 0777 as its mode', async () => {
    file('target.txt', 'kept');
    symlinkSync(join(dir, 'target.txt'), join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), [dir], 'new');
    const info = lstatSync(join(dir, 'link'));
    expect(info.isFile()).toBe(true);
    expect(info.mode & 0o777).not.toBe(0o777);
    expect(readFileSync(join(dir, 'target.txt'), 'utf8')).toBe('kept');
  });

  it('says when the parent directory is missing and refuses to overwrite a directory', async () => {
    await expect(writeFileAtomic(join(dir, 'no', 'such.txt'), [dir], 'x')).rejects.toThrow(
      /Parent directory does not exist/,
    );
    mkdirSync(join(dir, 'd'));
    await expect(writeFileAtomic(join(dir, 'd'), [dir], 'x')).rejects.toThrow(/is a directory/);
    expect(readdirSync(dir).sort()).toEqual(['d']);
  });
});

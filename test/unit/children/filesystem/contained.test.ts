import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  makeContainedDirectory,
  readContainedDir,
  readTextCapped,
  writeFileAtomic,
} from '../../../../src/children/filesystem/index.js';

let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'omnimind-fs-contained-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  // What a directory swapped for a link looks like at the moment the tool opens it.
  symlinkSync(outside, join(root, 'swapped'));
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('descriptor checks (the path is trusted to be inside; what is opened is not)', () => {
  it('refuses a read whose open file lies outside the roots', async () => {
    await expect(readTextCapped(join(root, 'swapped', 'secret.txt'), [root], 1024)).rejects.toThrow(
      /led outside the allowed directories .* changed while in use/,
    );
    await expect(readContainedDir(join(root, 'swapped'), [root])).rejects.toThrow(/led outside/);
  });

  it('refuses a write whose directory lies outside the roots, and creates nothing there', async () => {
    await expect(writeFileAtomic(join(root, 'swapped', 'planted.txt'), [root], 'x')).rejects.toThrow(/led outside/);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('refuses a write into a .git directory reached through a link that looked like a plain directory', async () => {
    mkdirSync(join(root, 'repo', '.git'), { recursive: true });
    symlinkSync(join(root, 'repo', '.git'), join(root, 'plain'));
    await expect(writeFileAtomic(join(root, 'plain', 'config'), [root], 'x')).rejects.toThrow(/\.git directory/);
    expect(readdirSync(join(root, 'repo', '.git'))).toEqual([]);
  });

  it('creates directories one checked level at a time and refuses a link met on the way', async () => {
    await makeContainedDirectory(join(root, 'a', 'b', 'c'), [root]);
    expect(existsSync(join(root, 'a', 'b', 'c'))).toBe(true);
    await makeContainedDirectory(join(root, 'a', 'b', 'c'), [root]);
    await expect(makeContainedDirectory(join(root, 'swapped', 'made'), [root])).rejects.toThrow(
      /swapped is not a directory \(or was replaced while in use\)/,
    );
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });
});

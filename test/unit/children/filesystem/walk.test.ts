import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildDirectoryTree,
  compileGlob,
  compileSearchExcludes,
  compileTreeExcludes,
  searchFiles,
} from '../../../../src/children/filesystem/index.js';

let root: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'omnimind-fs-walk-')));
  for (const dir of ['a', 'b', 'c']) {
    mkdirSync(join(root, dir));
    writeFileSync(join(root, dir, `${dir}.txt`), dir);
  }
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A clock that moves forward `stepMs` every time it is read. */
function steppingClock(stepMs: number): () => number {
  let now = 0;
  return () => {
    now += stepMs;
    return now;
  };
}

const frozen = () => 0;

describe('searchFiles', () => {
  it('stops when the time budget runs out and says why', async () => {
    const outcome = await searchFiles(root, compileGlob('**'), compileSearchExcludes([]), 100, {
      roots: [root],
      maxEntries: 1000,
      budgetMs: 2_500,
      now: steppingClock(1_000),
    });
    expect(outcome.stopped).toBe('time');
    expect(outcome.matches.length).toBeLessThan(6);
  });

  it('stops at the entry cap and at the result cap, and only then', async () => {
    const options = { roots: [root], maxEntries: 1000, budgetMs: 1, now: frozen };
    const all = await searchFiles(root, compileGlob('**/*.txt'), compileSearchExcludes([]), 3, options);
    expect(all.stopped).toBeUndefined();
    expect(all.matches.map((path) => path.slice(root.length)).sort()).toEqual(['/a/a.txt', '/b/b.txt', '/c/c.txt']);
    const capped = await searchFiles(root, compileGlob('**/*.txt'), compileSearchExcludes([]), 2, options);
    expect(capped).toMatchObject({ stopped: 'results' });
    expect(capped.matches).toHaveLength(2);
    const visited = await searchFiles(root, compileGlob('**'), compileSearchExcludes([]), 100, {
      ...options,
      maxEntries: 2,
    });
    expect(visited.stopped).toBe('entries');
  });

  it('lists links that stay inside the roots and skips those that escape or dangle', async () => {
    const outside = realpathSync(mkdtempSync(join(tmpdir(), 'omnimind-fs-out-')));
    try {
      symlinkSync(outside, join(root, 'out-link'));
      symlinkSync(join(root, 'a'), join(root, 'in-link'));
      symlinkSync(join(root, 'gone'), join(root, 'dangling'));
      const outcome = await searchFiles(root, compileGlob('*'), compileSearchExcludes([]), 100, {
        roots: [root],
        maxEntries: 100,
        budgetMs: 1,
        now: frozen,
      });
      const names = outcome.matches.map((path) => path.slice(root.length + 1)).sort();
      expect(names).toEqual(['a', 'b', 'c', 'in-link']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('buildDirectoryTree', () => {
  it('excludes by name anywhere and by glob, and refuses trees past the entry cap or time budget', async () => {
    const options = { roots: [root], maxEntries: 100, budgetMs: 1, now: frozen };
    const tree = await buildDirectoryTree(root, compileTreeExcludes(['b', 'c/*.txt']), options);
    expect(tree.map((entry) => entry.name).sort()).toEqual(['a', 'c']);
    expect(tree.find((entry) => entry.name === 'c')).toEqual({ name: 'c', type: 'directory', children: [] });
    await expect(buildDirectoryTree(root, compileTreeExcludes([]), { ...options, maxEntries: 4 })).rejects.toThrow(
      /more than 4 entries/,
    );
    await expect(
      buildDirectoryTree(root, compileTreeExcludes([]), { ...options, budgetMs: 2_500, now: steppingClock(1_000) }),
    ).rejects.toThrow(/took longer than 2.5 s/);
  });
});

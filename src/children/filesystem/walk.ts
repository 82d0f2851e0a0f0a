import type { Dirent } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { isWithinAny } from './allowed-roots.js';
import { withContainedDir } from './contained.js';
import { compileGlob, type GlobMatcher } from './glob.js';
import { WALK_YIELD_MS } from './limits.js';

/** One directory_tree node: directories always carry `children`, files never do. */
export interface TreeEntry {
  name: string;
  type: 'file' | 'directory';
  children?: TreeEntry[];
}

/** Bounds of a walk: the roots links must stay in, an entry cap, a time budget and the clock that measures it. */
export interface WalkOptions {
  roots: readonly string[];
  maxEntries: number;
  budgetMs: number;
  now: () => number;
}

/** Why a walk stopped early, if it did. */
export type WalkStop = 'results' | 'entries' | 'time' | undefined;

/**
 * directory_tree's exclusion rule: a pattern with `*` must match the relative path; any other pattern matches as
 * a name anywhere or as a directory whose contents are all excluded.
 */
export function compileTreeExcludes(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.flatMap((pattern) =>
    pattern.includes('*')
      ? [compileGlob(pattern)]
      : [compileGlob(pattern), compileGlob(`**/${pattern}`), compileGlob(`**/${pattern}/**`)],
  );
  return (relativePath) => matchers.some((matcher) => matcher(relativePath));
}

/** search_files' exclusion rule: the relative path matches one of the patterns. */
export function compileSearchExcludes(patterns: readonly string[]): GlobMatcher {
  const matchers = patterns.map((pattern) => compileGlob(pattern));
  return (relativePath) => matchers.some((matcher) => matcher(relativePath));
}

/**
 * The entries of a directory inside the roots, read through a checked descriptor of it: a directory replaced by
 * a link that escapes, before or while it is walked, is refused.
 */
export function readContainedDir(dir: string, roots: readonly string[]): Promise<Dirent[]> {
  return withContainedDir(dir, roots, (at) => readdir(at, { withFileTypes: true }));
}

/**
 * A pause for the event loop every {@link WALK_YIELD_MS} of walking: matching thousands of names in one directory
 * must not keep the child from answering other requests and health checks.
 */
function createYielder(now: () => number): () => Promise<void> {
  let last = now();
  return async () => {
    if (now() - last < WALK_YIELD_MS) return;
    await setImmediate();
    last = now();
  };
}

function relativeName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/**
 * The recursive tree under `root` (a resolved, allowed directory), in directory order, without following links.
 * Throws when the tree exceeds the entry cap or the time budget, naming the way to narrow it.
 */
export async function buildDirectoryTree(
  root: string,
  isExcluded: GlobMatcher,
  options: WalkOptions,
): Promise<TreeEntry[]> {
  const deadline = options.now() + options.budgetMs;
  const pause = createYielder(options.now);
  let count = 0;
  const walk = async (dir: string, prefix: string): Promise<TreeEntry[]> => {
    const entries = await readContainedDir(dir, options.roots);
    const result: TreeEntry[] = [];
    for (const entry of entries) {
      await pause();
      const relativePath = relativeName(prefix, entry.name);
      if (isExcluded(relativePath)) continue;
      count++;
      if (count > options.maxEntries) {
        throw new Error(
          `The tree under ${root} has more than ${options.maxEntries} entries; ` +
            'ask for a deeper path or add excludePatterns (for example "node_modules", ".git")',
        );
      }
      if (options.now() > deadline) {
        throw new Error(
          `Walking the tree under ${root} took longer than ${options.budgetMs / 1000} s; ` +
            'ask for a deeper path or add excludePatterns',
        );
      }
      if (entry.isDirectory()) {
        result.push({
          name: entry.name,
          type: 'directory',
          children: await walk(join(dir, entry.name), relativePath),
        });
      } else {
        result.push({ name: entry.name, type: 'file' });
      }
    }
    return result;
  };
  return walk(root, '');
}

/** Matches of a search and whether (and why) it stopped early. */
export interface SearchOutcome {
  matches: string[];
  stopped: WalkStop;
}

/**
 * Full paths under `root` whose path relative to it matches `pattern`, depth first in directory order; links are
 * listed (and matched) only when their target lies inside the roots, never descended; unreadable subdirectories
 * are skipped. Stops at `maxResults` matches, `options.maxEntries` visited entries or the time budget.
 */
export async function searchFiles(
  root: string,
  pattern: GlobMatcher,
  isExcluded: GlobMatcher,
  maxResults: number,
  options: WalkOptions,
): Promise<SearchOutcome> {
  const deadline = options.now() + options.budgetMs;
  const pause = createYielder(options.now);
  const matches: string[] = [];
  let visited = 0;
  let stopped: WalkStop;
  const walk = async (dir: string, prefix: string, top: boolean): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readContainedDir(dir, options.roots);
    } catch (error) {
      if (top) throw error;
      return;
    }
    for (const entry of entries) {
      await pause();
      if (stopped) return;
      visited++;
      if (visited > options.maxEntries) {
        stopped = 'entries';
        return;
      }
      if (options.now() > deadline) {
        stopped = 'time';
        return;
      }
      const fullPath = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        const target = await realpath(fullPath).catch(() => undefined);
        if (target === undefined || !isWithinAny(target, options.roots)) continue;
      }
      const relativePath = relativeName(prefix, entry.name);
      if (isExcluded(relativePath)) continue;
      if (pattern(relativePath)) {
        if (matches.length >= maxResults) {
          stopped = 'results';
          return;
        }
        matches.push(fullPath);
      }
      if (entry.isDirectory()) await walk(fullPath, relativePath, false);
    }
  };
  await walk(root, '', true);
  return { matches, stopped };
}

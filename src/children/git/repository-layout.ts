import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ConfigEntry, parseConfigList, refusedConfig } from './config-allow-list.js';
import { type GitPlace, runGit } from './run-git.js';

/** A repository the git tools may run in: where to run, its vetted git directory and working tree, and its config. */
export interface GitRepository extends Required<GitPlace> {
  /** The repository's own config entries (all allowed). */
  config: readonly ConfigEntry[];
}

/** Refused config keys named in one error, at most: enough to act on, bounded whatever the file holds. */
const MAX_NAMED_KEYS = 10;

async function kindOf(path: string): Promise<'missing' | 'link' | 'file' | 'directory' | 'other'> {
  try {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) return 'link';
    if (stats.isFile()) return 'file';
    return stats.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/** Whether git would take `dir` itself for a git directory (a bare repository, or the inside of a `.git`). */
async function looksLikeGitDir(dir: string): Promise<boolean> {
  if ((await kindOf(join(dir, 'HEAD'))) === 'missing') return false;
  if ((await kindOf(join(dir, 'commondir'))) !== 'missing') return true;
  return (await kindOf(join(dir, 'objects'))) !== 'missing' && (await kindOf(join(dir, 'refs'))) !== 'missing';
}

/**
 * Finds the working tree that holds `dir` (a real path) as git would, walking up to the nearest `.git`, and accepts
 * only the layout it can vouch for: a working tree with its own `.git` directory. A `.git` file or link (linked
 * worktrees, submodules: their git directory may lie anywhere) and a path inside a git directory or a bare
 * repository (whose config could move the working tree anywhere with `core.worktree`) are refused.
 */
export async function findWorkTree(dir: string): Promise<{ workTree: string; gitDir: string }> {
  for (let current = dir; ; current = dirname(current)) {
    const dotGit = join(current, '.git');
    const kind = await kindOf(dotGit);
    if (kind === 'directory') return { workTree: current, gitDir: dotGit };
    if (kind !== 'missing') {
      throw new Error(
        `${dotGit} is a ${kind === 'file' ? 'file' : kind === 'link' ? 'symbolic link' : 'special file'}, not a ` +
          'directory (a linked worktree or a submodule?); the git tools only work in a working tree with its own ' +
          '.git directory, so use the main working tree',
      );
    }
    if (await looksLikeGitDir(current)) {
      throw new Error(
        `${current} is a git directory or a bare repository; the git tools only work in a working tree with its ` +
          'own .git directory',
      );
    }
    if (current === dirname(current)) throw new Error('no .git directory was found in it or above it');
  }
}

/**
 * Reads one config file with git's own parser, without following includes (which are refused anyway). A file whose
 * listing passes the output cap is refused whole: what lies past the cap could not be checked.
 */
async function readConfig(path: string, signal?: AbortSignal): Promise<ConfigEntry[]> {
  const kind = await kindOf(path);
  if (kind === 'missing') return [];
  if (kind !== 'file') throw new Error(`${path} is not a regular file`);
  const listed = await runGit(['config', '--file', path, '--list', '--null'], { cwd: '/', signal });
  if (listed.truncated) throw new Error(`${path} is too large to be checked`);
  return parseConfigList(listed.stdout);
}

/**
 * Refuses a working tree or git directory owned by another user, as git's own ownership check (`safe.directory`)
 * would: git skips that check when told the git directory explicitly, and git run on another user's repository
 * would also leave files there that this user owns.
 */
async function assertOwned(paths: readonly string[]): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  for (const path of paths) {
    const owner = (await lstat(path)).uid;
    if (owner !== uid) {
      throw new Error(
        `${path} is owned by uid ${owner}, not by this user (uid ${uid}); git refuses it, and so do these tools`,
      );
    }
  }
}

/**
 * Checks a working tree's git directory before git may run on it: a real directory owned by this user, not a
 * linked worktree's, whose config and worktree config set only allowed keys (see config-allow-list.ts). Throws a
 * message naming what is refused and what to do; returns the config otherwise.
 */
export async function vetGitDir(
  layout: { workTree: string; gitDir: string },
  signal?: AbortSignal,
): Promise<ConfigEntry[]> {
  const { workTree, gitDir } = layout;
  if (!(await looksLikeGitDir(gitDir))) throw new Error(`${gitDir} is not a git directory`);
  await assertOwned([workTree, gitDir]);
  if ((await kindOf(join(gitDir, 'commondir'))) !== 'missing') {
    throw new Error(`${gitDir} belongs to a linked worktree; use the main working tree`);
  }
  const config = await readConfig(join(gitDir, 'config'), signal);
  const worktreeConfig = await readConfig(join(gitDir, 'config.worktree'), signal);
  const refused = [...new Set(refusedConfig([...config, ...worktreeConfig]).map((entry) => entry.key))];
  if (refused.length > 0) {
    const named = refused.slice(0, MAX_NAMED_KEYS).join(', ') + (refused.length > MAX_NAMED_KEYS ? ', …' : '');
    throw new Error(
      `the repository config in ${gitDir} sets ${named}, which the git tools refuse: a config key can make git run ` +
        'a command (filters, diff and merge drivers, hooks, pagers, helpers, includes) or work outside the ' +
        'repository, so only plain keys such as user.name, remote.*.url and branch.*.merge are accepted. Remove the ' +
        'others (`git config --unset KEY`) to use the git tools on this repository',
    );
  }
  return config;
}

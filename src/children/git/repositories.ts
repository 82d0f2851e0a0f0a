import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { effectiveRoots, isWithin } from './effective-roots.js';
import { findWorkTree, type GitRepository, vetGitDir } from './repository-layout.js';

/** What a tool call brings to repository resolution: its cancellation signal and its `_meta` (the client's roots). */
export interface RequestScope {
  signal?: AbortSignal;
  _meta?: Record<string, unknown>;
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/**
 * The directories git tools may work in. A `repo_path` must lie inside one of them by real path, and so must the
 * top of the git working tree it belongs to, so git never acts on a repository that merely encloses an allowed
 * directory.
 */
export class AllowedRepositories {
  #roots: string[] = [];

  /** The allowed directories, by real path. */
  get directories(): readonly string[] {
    return this.#roots;
  }

  /** Sets the allowed directories: absolute paths; missing ones are skipped with a warning. */
  async configure(paths: readonly string[], warn: (message: string) => void): Promise<void> {
    const accepted: string[] = [];
    for (const path of paths) {
      if (typeof path !== 'string' || path.includes('\0') || !isAbsolute(expandHome(path))) {
        warn(`Ignoring repository ${JSON.stringify(path)}: repositories must be absolute paths`);
        continue;
      }
      try {
        const real = await realpath(resolve(expandHome(path)));
        if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
        if (!accepted.includes(real)) accepted.push(real);
      } catch {
        warn(`Ignoring repository ${path}: it does not exist or is not a directory`);
      }
    }
    this.#roots = accepted;
  }

  /**
   * Resolves a tool's `repo_path` to a vetted repository, or throws a message that says why not: outside the
   * directories this request may reach (the configured ones, narrowed to the client's roots when the request carries
   * them; by real path, so `..` and symbolic links cannot escape), not in a git working tree, in a repository whose
   * top lies outside them, in a layout the tools cannot vouch for, or with a config that could make git run a
   * command. Relative paths are taken against the first reachable directory.
   */
  async resolve(repoPath: unknown, scope: RequestScope = {}): Promise<GitRepository> {
    if (typeof repoPath !== 'string' || repoPath === '') {
      throw new Error('Invalid repo_path: expected a non-empty string');
    }
    if (repoPath.includes('\0')) throw new Error('Invalid repo_path: it contains a NUL byte');
    if (this.#roots.length === 0) throw new Error('No repositories are configured, so no repo_path can be used');
    const roots = await effectiveRoots(this.#roots, scope._meta);
    const absolute = resolve(roots[0]!, expandHome(repoPath));
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new Error(`Repository path '${repoPath}' does not exist`);
    }
    if (!roots.some((root) => isWithin(real, root))) {
      throw new Error(`Repository path '${repoPath}' is outside the allowed repositories: ${roots.join(', ')}`);
    }
    if (!(await stat(real)).isDirectory()) throw new Error(`Repository path '${repoPath}' is not a directory`);
    let layout: { workTree: string; gitDir: string };
    try {
      layout = await findWorkTree(real);
    } catch (error) {
      throw new Error(`'${repoPath}' is not a git working tree the git tools can use: ${messageOf(error)}`);
    }
    if (!roots.some((root) => isWithin(layout.workTree, root))) {
      throw new Error(
        `'${repoPath}' belongs to the git repository at ${layout.workTree}, which is outside the allowed ` +
          `repositories: ${roots.join(', ')}`,
      );
    }
    try {
      const config = await vetGitDir(layout, scope.signal);
      return { cwd: layout.workTree, ...layout, config };
    } catch (error) {
      throw new Error(`Refusing the repository at ${layout.workTree}: ${messageOf(error)}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

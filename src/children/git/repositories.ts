import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, resolve, sep } from 'node:path';
import { runGit } from './run-git.js';

function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
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
   * Resolves a tool's `repo_path` to the top of its git working tree, or throws a message that says why not:
   * outside the allowed directories (by real path, so `..` and symbolic links cannot escape), not a git working
   * tree, or inside a repository whose top lies outside them. Relative paths are taken against the first one.
   */
  async resolve(repoPath: unknown, signal?: AbortSignal): Promise<string> {
    if (typeof repoPath !== 'string' || repoPath === '') {
      throw new Error('Invalid repo_path: expected a non-empty string');
    }
    if (repoPath.includes('\0')) throw new Error('Invalid repo_path: it contains a NUL byte');
    if (this.#roots.length === 0) throw new Error('No repositories are configured, so no repo_path can be used');
    const absolute = resolve(this.#roots[0]!, expandHome(repoPath));
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new Error(`Repository path '${repoPath}' does not exist`);
    }
    if (!this.#roots.some((root) => isWithin(real, root))) {
      throw new Error(`Repository path '${repoPath}' is outside the allowed repositories: ${this.#roots.join(', ')}`);
    }
    if (!(await stat(real)).isDirectory()) throw new Error(`Repository path '${repoPath}' is not a directory`);
    let top: string;
    try {
      top = (await runGit(['rev-parse', '--show-toplevel'], { cwd: real, signal })).stdout.trim();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`'${repoPath}' is not a git working tree (${reason})`);
    }
    const realTop = await realpath(top);
    if (!this.#roots.some((root) => isWithin(realTop, root))) {
      throw new Error(
        `'${repoPath}' belongs to the git repository at ${realTop}, which is outside the allowed repositories: ` +
          this.#roots.join(', '),
      );
    }
    return realTop;
  }
}

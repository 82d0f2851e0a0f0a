import { type GitPlace, runGit } from './run-git.js';

/** Refuses a value that git could read as an option (`--upload-pack=…`, `-c …`, `--output=…`). */
export function assertNotOption(value: string, argument: string): void {
  if (value.startsWith('-')) {
    throw new Error(`Invalid ${argument}: '${value}' - cannot start with '-'`);
  }
  if (value.includes('\0')) throw new Error(`Invalid ${argument}: it contains a NUL byte`);
}

/**
 * Resolves a revision (`main`, `HEAD~2`, a tag, a SHA) to the full SHA of its commit, refusing option-like values
 * and anything that is not a commit, so only a plain SHA ever reaches the command that uses it.
 */
export async function resolveCommit(
  place: GitPlace,
  revision: string,
  argument: string,
  signal?: AbortSignal,
): Promise<string> {
  assertNotOption(revision, argument);
  try {
    const { stdout } = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], {
      ...place,
      signal,
    });
    return stdout.trim();
  } catch {
    throw new Error(`Invalid ${argument}: '${revision}' is not a commit, branch or tag in this repository`);
  }
}

/**
 * Resolves git_diff's target: one revision, or a range `A..B` / `A...B` (an empty side means HEAD), each side
 * resolved by {@link resolveCommit}. Returns the arguments to hand to `git diff`.
 */
export async function resolveDiffTarget(place: GitPlace, target: string, signal?: AbortSignal): Promise<string> {
  assertNotOption(target, 'target');
  const range = /^(.*?)(\.\.\.?)(.*)$/.exec(target);
  if (!range) return resolveCommit(place, target, 'target', signal);
  const [, left, dots, right] = range as unknown as [string, string, string, string];
  const from = await resolveCommit(place, left || 'HEAD', 'target', signal);
  const to = await resolveCommit(place, right || 'HEAD', 'target', signal);
  return `${from}${dots}${to}`;
}

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseConfigList } from './config-allow-list.js';
import type { GitRepository } from './repository-layout.js';
import { runGit } from './run-git.js';

const IDENTITY_KEYS = ['user.name', 'user.email'];

/** The user's global git config files, in the order git reads them (a later one wins). */
function globalConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, '.config');
  return [join(xdg, 'git', 'config'), join(home, '.gitconfig')];
}

/**
 * The author identity a commit uses where the repository's own config names none: `user.name` and `user.email` from
 * the user's global git config. git itself runs without the global config (it could name programs), so these two
 * values, and nothing else, are taken from it and passed as config overrides.
 */
export async function identityOverrides(
  repo: GitRepository,
  signal?: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<[string, string][]> {
  const missing = IDENTITY_KEYS.filter((key) => !repo.config.some((entry) => entry.key.toLowerCase() === key));
  if (missing.length === 0) return [];
  const found = new Map<string, string>();
  for (const file of globalConfigFiles(env)) {
    const listed = await runGit(['config', '--file', file, '--list', '--null'], { cwd: '/', signal }).catch(() => ({
      stdout: '',
    }));
    for (const { key, value } of parseConfigList(listed.stdout)) {
      if (missing.includes(key.toLowerCase()) && value !== null) found.set(key.toLowerCase(), value);
    }
  }
  return [...found];
}

/**
 * The repository config keys the git tools accept, as `git config --list` spells them (section and variable names
 * lower-cased, `*` for a subsection). Each is plain data that makes git run nothing: no filter, diff or merge driver,
 * hook path, fsmonitor, pager, editor, ssh command, askpass, credential helper, gpg program, include, upload-pack or
 * receive-pack command can be configured, because a key that is not listed here is refused. A list of what is
 * allowed holds by construction; a list of what is dangerous would have to be complete.
 */
const ALLOWED_KEYS = [
  // What `git init` and `git clone` write.
  'core.repositoryformatversion',
  'core.filemode',
  'core.bare',
  'core.logallrefupdates',
  'core.ignorecase',
  'core.precomposeunicode',
  'core.symlinks',
  'remote.*.url',
  'remote.*.pushurl',
  'remote.*.fetch',
  'remote.*.push',
  'remote.*.tagopt',
  'remote.*.prune',
  'branch.*.remote',
  'branch.*.pushremote',
  'branch.*.merge',
  'branch.*.rebase',
  'branch.*.description',
  'submodule.*.url',
  'submodule.*.active',
  // Line endings, sparse checkouts and index tuning: how files are compared, never a program.
  'core.autocrlf',
  'core.eol',
  'core.safecrlf',
  'core.sparsecheckout',
  'core.sparsecheckoutcone',
  'core.untrackedcache',
  'core.commitgraph',
  'core.multipackindex',
  'index.version',
  'extensions.objectformat',
  // Makes git read config.worktree, which is checked against this same list.
  'extensions.worktreeconfig',
  'user.name',
  'user.email',
  'init.defaultbranch',
  'pull.rebase',
  'pull.ff',
  'push.default',
  'fetch.prune',
  // Aliases only name other commands for a person's shell; git never expands one for the built-in commands run here.
  'alias.*',
  'merge.conflictstyle',
  'rerere.enabled',
  'core.longpaths',
  // Written by editors and hosting tools (VS Code, GitHub CLI): names of branches and remotes.
  'branch.*.vscode-merge-base',
  'remote.*.gh-resolved',
  // Written by `git lfs install --local`: a format number; the LFS filters themselves are config and are refused.
  'lfs.repositoryformatversion',
];

/** The only values some keys may have (git's spellings of false): a bare repository has no working tree to work on. */
const ACCEPTED_VALUES = new Map<string, ReadonlySet<string>>([['core.bare', new Set(['false', 'no', 'off', '0'])]]);

function patternOf(key: string): RegExp {
  return new RegExp(`^${key.replaceAll('.', '\\.').replaceAll('*', '.+')}$`, 's');
}

const ALLOWED_PATTERNS = ALLOWED_KEYS.map(patternOf);

/** One `key=value` entry of a config file (`value` null for a key written without `=`, which means true). */
export interface ConfigEntry {
  key: string;
  value: string | null;
}

/** Parses the output of `git config --list --null`: `key\nvalue\0` per entry, or `key\0` for a bare key. */
export function parseConfigList(output: string): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const record of output.split('\0')) {
    if (record === '') continue;
    const newline = record.indexOf('\n');
    entries.push(
      newline === -1
        ? { key: record, value: null }
        : { key: record.slice(0, newline), value: record.slice(newline + 1) },
    );
  }
  return entries;
}

/** The entries the git tools refuse to run with: keys outside the allow-list, or allowed keys with a refused value. */
export function refusedConfig(entries: readonly ConfigEntry[]): ConfigEntry[] {
  return entries.filter((entry) => {
    // Section and variable names are case-insensitive; a subsection matches `.+` whatever its case.
    const key = entry.key.toLowerCase();
    if (!ALLOWED_PATTERNS.some((pattern) => pattern.test(key))) return true;
    const accepted = ACCEPTED_VALUES.get(key);
    return accepted !== undefined && !accepted.has((entry.value ?? 'true').toLowerCase());
  });
}

import { describe, expect, it } from 'vitest';
import { parseConfigList, refusedConfig } from '../../../../src/children/git/config-allow-list.js';

describe('parseConfigList', () => {
  it('reads `key\\nvalue` records, keys without a value, and values holding newlines', () => {
    expect(parseConfigList('core.bare\nfalse\0core.symlinks\0user.name\nA\nB\0')).toEqual([
      { key: 'core.bare', value: 'false' },
      { key: 'core.symlinks', value: null },
      { key: 'user.name', value: 'A\nB' },
    ]);
  });
});

describe('refusedConfig', () => {
  const keys = (entries: [string, string | null][]) =>
    refusedConfig(entries.map(([key, value]) => ({ key, value }))).map((entry) => entry.key);

  it('accepts what git init and git clone write', () => {
    expect(
      keys([
        ['core.repositoryformatversion', '0'],
        ['core.filemode', 'true'],
        ['core.bare', 'false'],
        ['core.logallrefupdates', 'true'],
        ['remote.origin.url', 'git@example.com:x/y.git'],
        ['remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'],
        ['branch.main.remote', 'origin'],
        ['branch.Feature/X.merge', 'refs/heads/Feature/X'],
        ['user.name', 'A'],
        ['alias.st', '!touch /tmp/x'],
        ['branch.main.vscode-merge-base', 'origin/main'],
        ['remote.origin.gh-resolved', 'base'],
      ]),
    ).toEqual([]);
  });

  it('refuses every key outside the list, whatever its case or subsection, and a bare repository', () => {
    expect(
      keys([
        ['filter.x.clean', 'cmd'],
        ['Filter.X.Clean', 'cmd'],
        ['core.worktree', '/elsewhere'],
        ['core.bare', 'true'],
        ['core.bare', null],
        ['remote.origin.uploadpack', 'cmd'],
        ['remote.url', 'x'],
        ['core.filemode.extra', 'x'],
        ['include.path', '/x'],
        ['includeif.gitdir:/.path', '/x'],
        ['merge.ours.driver', 'true'],
        ['merge.conflictstyle.driver', 'cmd'],
      ]),
    ).toEqual([
      'filter.x.clean',
      'Filter.X.Clean',
      'core.worktree',
      'core.bare',
      'core.bare',
      'remote.origin.uploadpack',
      'remote.url',
      'core.filemode.extra',
      'include.path',
      'includeif.gitdir:/.path',
      'merge.ours.driver',
      'merge.conflictstyle.driver',
    ]);
    expect(keys([['core.bare', 'No']])).toEqual([]);
  });
});

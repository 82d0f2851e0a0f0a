import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGit, scrubGitEnv } from '../../../../src/children/git/index.js';

let bin: string;

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'omnimind-git-bin-'));
});

afterEach(() => {
  rmSync(bin, { recursive: true, force: true });
});

/** Puts a `git` shell script on a private PATH, so runGit's process handling can be observed. */
function fakeGit(script: string): NodeJS.ProcessEnv {
  const path = join(bin, 'git');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return {
    PATH: `${bin}:/usr/bin:/bin`,
    GIT_DIR: '/elsewhere/.git',
    GIT_CONFIG_PARAMETERS: "'core.pager'='evil'",
    HOME: bin,
  };
}

describe('scrubGitEnv', () => {
  it('keeps only PATH and turns off every config, attributes and program source git reads from its environment', () => {
    const env = scrubGitEnv({
      GIT_DIR: '/x',
      git_work_tree: '/y',
      GIT_SSH_COMMAND: 'evil',
      GIT_CONFIG_PARAMETERS: "'filter.x.clean'='evil'",
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.pager',
      GIT_CONFIG_VALUE_0: 'evil',
      EDITOR: 'evil',
      VISUAL: 'evil',
      SSH_ASKPASS: 'evil',
      XDG_CONFIG_HOME: '/home/me/.config',
      LD_PRELOAD: '/evil.so',
      HOME: '/home/me',
      PATH: '/bin',
    });
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ATTR_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      PAGER: 'cat',
      GIT_EDITOR: ':',
      GIT_OPTIONAL_LOCKS: '0',
      LC_ALL: 'C',
      LANGUAGE: 'C',
    });
  });
});

describe('runGit', () => {
  it('passes arguments as an array after the safety options, with the scrubbed environment', async () => {
    const env = fakeGit('printf "%s|" "$@"; echo; echo "dir=$GIT_DIR params=$GIT_CONFIG_PARAMETERS"');
    const { stdout, truncated } = await runGit(['log', '$(touch pwned)', 'a b'], { cwd: bin, env });
    expect(truncated).toBe(false);
    expect(stdout).toBe(
      '--no-pager|-c|core.hooksPath=/dev/null|-c|core.fsmonitor=false|-c|diff.ignoreSubmodules=all|-c|gc.auto=0|' +
        '-c|maintenance.auto=false|-c|color.ui=false|log|$(touch pwned)|a b|\n' +
        'dir= params=',
    );
  });

  it('names the vetted git directory and working tree explicitly and adds per-run config after the safety options', async () => {
    const env = fakeGit('printf "%s|" "$@"');
    const { stdout } = await runGit(['commit'], {
      cwd: bin,
      gitDir: '/r/.git',
      workTree: '/r',
      overrides: [['user.name', 'A B']],
      env,
    });
    expect(stdout.startsWith('--git-dir=/r/.git|--work-tree=/r|--no-pager|')).toBe(true);
    expect(stdout.endsWith('|color.ui=false|-c|user.name=A B|commit|')).toBe(true);
  });

  it('kills a git that overruns its timeout and says so', async () => {
    const env = fakeGit('sleep 30');
    await expect(runGit(['status'], { cwd: bin, env, timeoutMs: 200 })).rejects.toThrow(
      'git status timed out after 0.2 s and was stopped',
    );
  });

  it('stops at the output cap and marks the output truncated', async () => {
    const env = fakeGit('yes abcdefghij | head -c 1000000');
    const { stdout, truncated } = await runGit(['log'], { cwd: bin, env, maxOutput: 1000 });
    expect(truncated).toBe(true);
    expect(stdout.length).toBeLessThanOrEqual(1000);
    expect(stdout.startsWith('abcdefghij\n')).toBe(true);
  });

  it('reports git’s own complaint, cancellation and NUL bytes as errors', async () => {
    const env = fakeGit('echo "fatal: not a git repository" >&2; exit 128');
    await expect(runGit(['status'], { cwd: bin, env })).rejects.toThrow(
      'git status failed: fatal: not a git repository',
    );
    const controller = new AbortController();
    const running = runGit(['status'], { cwd: bin, env: fakeGit('sleep 30'), signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toThrow('git status was cancelled');
    await expect(runGit(['log', 'a\0b'], { cwd: bin, env })).rejects.toThrow('NUL byte');
  });
});

import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT_FORMAT } from '../../src/children/git/index.js';
import { refused, requireBuilt, text } from '../helpers/stdio-child.js';

const CHILD = resolve('dist/src/children/git/main.js');

const clients: Client[] = [];
const dirs: string[] = [];

function makeTempDir(label: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `omnimind-git-${label}-`)));
  dirs.push(dir);
  return dir;
}

/** The environment for git run directly: no inherited GIT_* variables, a private HOME with an identity. */
function cleanEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('GIT_')) env[key] = value;
  }
  return { ...env, HOME: home, LC_ALL: 'C', LANGUAGE: 'C' };
}

interface Sandbox {
  home: string;
  repo: string;
  /** Runs git directly in `cwd` (default: the repo), returning its stdout without the final newline. */
  git: (args: string[], cwd?: string) => string;
}

function makeSandbox(): Sandbox {
  const home = makeTempDir('home');
  writeFileSync(
    join(home, '.gitconfig'),
    '[user]\n\tname = Test Author\n\temail = author@example.com\n[init]\n\tdefaultBranch = main\n',
  );
  const repo = join(makeTempDir('repos'), 'project');
  mkdirSync(repo);
  const git = (args: string[], cwd = repo) =>
    execFileSync('git', args, { cwd, env: cleanEnv(home), encoding: 'utf8' }).replace(/\n$/, '');
  git(['init', '-q']);
  writeFileSync(join(repo, 'a.txt'), 'one\ntwo\nthree\n');
  writeFileSync(join(repo, 'b.txt'), 'bee\n');
  git(['add', '.']);
  git(['commit', '-q', '-m', 'First commit']);
  writeFileSync(join(repo, 'a.txt'), 'one\ntwo\nthree\nfour\n');
  git(['commit', '-q', '-am', 'Second commit\n\nWith a body.']);
  return { home, repo, git };
}

async function spawnGit(repositories: string[], env: Record<string, string>): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CHILD],
    env: {
      ...(process.env as Record<string, string>),
      ...env,
      OMNIMIND_DATA_DIR: makeTempDir('data'),
      OMNIMIND_CHILD_CONFIG: JSON.stringify({ repositories }),
    },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'git-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

beforeAll(() => requireBuilt(CHILD));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('git child', () => {
  it('offers the reference server’s tools with its argument names and annotations', async () => {
    const { home, repo } = makeSandbox();
    const client = await spawnGit([repo], { HOME: home });
    const tools = (await client.listTools()).tools;
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const expected: Record<string, string[]> = {
      git_status: ['repo_path'],
      git_diff_unstaged: ['repo_path', 'context_lines'],
      git_diff_staged: ['repo_path', 'context_lines'],
      git_diff: ['repo_path', 'target', 'context_lines'],
      git_commit: ['repo_path', 'message'],
      git_add: ['repo_path', 'files'],
      git_reset: ['repo_path'],
      git_log: ['repo_path', 'max_count', 'start_timestamp', 'end_timestamp'],
      git_create_branch: ['repo_path', 'branch_name', 'base_branch'],
      git_checkout: ['repo_path', 'branch_name'],
      git_show: ['repo_path', 'revision'],
      git_branch: ['repo_path', 'branch_type', 'contains', 'not_contains'],
    };
    expect([...byName.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, properties] of Object.entries(expected)) {
      expect(Object.keys(byName.get(name)!.inputSchema.properties ?? {}).sort()).toEqual([...properties].sort());
      expect(byName.get(name)!.annotations?.openWorldHint).toBe(false);
    }
    const readOnly = tools.filter((tool) => tool.annotations?.readOnlyHint).map((tool) => tool.name);
    expect(readOnly.sort()).toEqual(
      ['git_branch', 'git_diff', 'git_diff_staged', 'git_diff_unstaged', 'git_log', 'git_show', 'git_status'].sort(),
    );
    expect(byName.get('git_reset')!.annotations?.destructiveHint).toBe(true);
  });

  it('runs a scripted session whose answers match git run directly', async () => {
    const { home, repo, git } = makeSandbox();
    // A decoy repository named by inherited GIT_* variables: if they leaked into the child, it would report on it.
    const decoy = join(makeTempDir('decoy'), 'decoy');
    mkdirSync(decoy);
    git(['init', '-q', '-b', 'decoy'], decoy);
    const client = await spawnGit([repo], {
      HOME: home,
      GIT_DIR: join(decoy, '.git'),
      GIT_WORK_TREE: decoy,
      GIT_INDEX_FILE: join(decoy, 'index'),
    });
    const repo_path = repo;

    writeFileSync(join(repo, 'a.txt'), 'zero\none\ntwo\nthree\nfour\n');
    writeFileSync(join(repo, 'new.txt'), 'brand new\n');
    expect(await text(client, 'git_status', { repo_path })).toBe(`Repository status:\n${git(['status'])}`);
    expect(await text(client, 'git_diff_unstaged', { repo_path })).toBe(`Unstaged changes:\n${git(['diff'])}`);
    expect(await text(client, 'git_diff_unstaged', { repo_path, context_lines: 0 })).toBe(
      `Unstaged changes:\n${git(['diff', '--unified=0'])}`,
    );

    expect(await text(client, 'git_add', { repo_path, files: ['a.txt', 'new.txt'] })).toBe('Files staged successfully');
    expect(git(['diff', '--cached', '--name-only'])).toBe('a.txt\nnew.txt');
    expect(await text(client, 'git_diff_staged', { repo_path })).toBe(`Staged changes:\n${git(['diff', '--cached'])}`);

    expect(await text(client, 'git_reset', { repo_path })).toBe('All staged changes reset');
    expect(git(['diff', '--cached'])).toBe('');
    await text(client, 'git_add', { repo_path, files: ['.'] });

    const committed = await text(client, 'git_commit', { repo_path, message: 'Third commit\n\nStaged by a tool.' });
    expect(committed).toBe(`Changes committed successfully with hash ${git(['rev-parse', 'HEAD'])}`);
    expect(git(['log', '-1', '--format=%B'])).toBe('Third commit\n\nStaged by a tool.\n');

    expect(await text(client, 'git_log', { repo_path })).toBe(
      `Commit history:\n${git(['log', '--max-count=10', `--format=${COMMIT_FORMAT}`])}`,
    );
    expect(await text(client, 'git_log', { repo_path, max_count: 2 })).toBe(
      `Commit history:\n${git(['log', '--max-count=2', `--format=${COMMIT_FORMAT}`])}`,
    );
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const dated = await text(client, 'git_log', { repo_path, start_timestamp: '2000-01-01', end_timestamp: future });
    expect(dated).toBe(
      `Commit history:\n${git(['log', '--max-count=10', '--since=2000-01-01', `--until=${future}`, `--format=${COMMIT_FORMAT}`])}`,
    );
    expect(dated).toContain('Message: First commit');
    expect(await text(client, 'git_log', { repo_path, start_timestamp: future })).toBe('Commit history:\n');

    expect(await text(client, 'git_diff', { repo_path, target: 'HEAD~2' })).toBe(
      `Diff with HEAD~2:\n${git(['diff', 'HEAD~2'])}`,
    );
    expect(await text(client, 'git_diff', { repo_path, target: 'HEAD~2..HEAD' })).toBe(
      `Diff with HEAD~2..HEAD:\n${git(['diff', 'HEAD~2..HEAD'])}`,
    );
    expect(await text(client, 'git_show', { repo_path, revision: 'HEAD~1' })).toBe(
      git(['show', `--format=${COMMIT_FORMAT}`, 'HEAD~1']),
    );
    const root = await text(client, 'git_show', { repo_path, revision: 'HEAD~2' });
    expect(root).toContain('Message: First commit');
    expect(root).toContain('+bee');

    expect(await text(client, 'git_create_branch', { repo_path, branch_name: 'feature' })).toBe(
      "Created branch 'feature' from 'main'",
    );
    expect(await text(client, 'git_create_branch', { repo_path, branch_name: 'old', base_branch: 'HEAD~2' })).toBe(
      "Created branch 'old' from 'HEAD~2'",
    );
    expect(git(['rev-parse', 'old'])).toBe(git(['rev-parse', 'HEAD~2']));
    expect(await text(client, 'git_branch', { repo_path, branch_type: 'local' })).toBe(git(['branch']));
    expect(await text(client, 'git_branch', { repo_path, branch_type: 'all', contains: 'HEAD' })).toBe(
      git(['branch', '--all', '--contains=HEAD']),
    );
    expect(await text(client, 'git_branch', { repo_path, branch_type: 'local', not_contains: 'HEAD' })).toBe('  old');
    expect(await text(client, 'git_branch', { repo_path, branch_type: 'remote' })).toBe('');

    expect(await text(client, 'git_checkout', { repo_path, branch_name: 'old' })).toBe("Switched to branch 'old'");
    expect(git(['symbolic-ref', '--short', 'HEAD'])).toBe('old');
    expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
    // The decoy was never touched.
    expect(git(['status', '--porcelain'], decoy)).toBe('');
  });

  it('answers bad arguments and git failures with tool errors', async () => {
    const { home, repo } = makeSandbox();
    const client = await spawnGit([repo], { HOME: home });
    const repo_path = repo;
    expect(await refused(client, 'git_branch', { repo_path, branch_type: 'everything' })).toContain(
      'Invalid branch type',
    );
    expect(await refused(client, 'git_log', { repo_path, max_count: 0 })).toContain('Invalid max_count');
    expect(await refused(client, 'git_log', { repo_path, max_count: 2.5 })).toContain('Invalid max_count');
    expect(await refused(client, 'git_diff_unstaged', { repo_path, context_lines: -1 })).toContain(
      'Invalid context_lines',
    );
    expect(await refused(client, 'git_show', { repo_path, revision: 'no-such-ref' })).toContain('is not a commit');
    expect(await refused(client, 'git_checkout', { repo_path, branch_name: 'nope' })).toContain('is not a commit');
    expect(await refused(client, 'git_create_branch', { repo_path, branch_name: 'main' })).toContain('already exists');
    expect(await refused(client, 'git_create_branch', { repo_path, branch_name: 'bad..name' })).toContain(
      'not a valid branch name',
    );
    expect(await refused(client, 'git_commit', { repo_path, message: 'nothing staged' })).toContain('nothing');
    expect(await refused(client, 'git_commit', { repo_path, message: '  ' })).toContain('non-empty message');
    expect(await refused(client, 'git_add', { repo_path, files: ['missing.txt'] })).toContain('did not match');
    await refused(client, 'git_add', { repo_path, files: [] });
    await refused(client, 'git_status', {});
    expect(await text(client, 'git_status', { repo_path })).toContain('nothing to commit');
  });

  it('refuses option injection: nothing a client sends is read as a git option', async () => {
    const { home, repo, git } = makeSandbox();
    const client = await spawnGit([repo], { HOME: home });
    const repo_path = repo;
    const trap = makeTempDir('trap');
    const marker = join(trap, 'pwned');
    const attempts: [string, Record<string, unknown>][] = [
      ['git_diff', { repo_path, target: `--output=${marker}` }],
      ['git_diff', { repo_path, target: `HEAD..--output=${marker}` }],
      ['git_show', { repo_path, revision: `--output=${marker}` }],
      ['git_checkout', { repo_path, branch_name: `--upload-pack=touch ${marker}` }],
      ['git_create_branch', { repo_path, branch_name: `--upload-pack=touch ${marker}` }],
      ['git_create_branch', { repo_path, branch_name: 'x', base_branch: `-c core.sshCommand=touch ${marker}` }],
      ['git_branch', { repo_path, branch_type: 'local', contains: `--output=${marker}` }],
      ['git_branch', { repo_path, branch_type: 'all', not_contains: `-c core.sshCommand=touch ${marker}` }],
      ['git_log', { repo_path, start_timestamp: `--output=${marker}` }],
      ['git_log', { repo_path, end_timestamp: `--output=${marker}` }],
    ];
    for (const [tool, args] of attempts) {
      expect(await refused(client, tool, args)).toMatch(/cannot start with '-'/);
    }
    // Files are pathspecs after `--`: an option-like name is a file that does not exist.
    expect(await refused(client, 'git_add', { repo_path, files: [`--output=${marker}`] })).toContain('did not match');
    expect(await refused(client, 'git_commit', { repo_path, message: `--output=${marker}` })).toContain('nothing');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(repo, `--output=${marker}`))).toBe(false);
    expect(git(['branch'])).toBe('* main');
  });

  it('runs no hook planted in the repository', async () => {
    const { home, repo, git } = makeSandbox();
    const trap = makeTempDir('trap');
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'post-checkout']) {
      const script = join(repo, '.git', 'hooks', hook);
      writeFileSync(script, `#!/bin/sh\ntouch "${join(trap, hook)}"\n`, { mode: 0o755 });
    }
    const client = await spawnGit([repo], { HOME: home });
    writeFileSync(join(repo, 'c.txt'), 'sea\n');
    await text(client, 'git_status', { repo_path: repo });
    await text(client, 'git_add', { repo_path: repo, files: ['c.txt'] });
    await text(client, 'git_commit', { repo_path: repo, message: 'With hooks around' });
    await text(client, 'git_create_branch', { repo_path: repo, branch_name: 'side' });
    await text(client, 'git_checkout', { repo_path: repo, branch_name: 'side' });
    expect(readdirSync(trap)).toEqual([]);
    expect(git(['log', '-1', '--format=%s'])).toBe('With hooks around');
  });

  it('refuses repo_path outside the repositories, by real path', async () => {
    const { home, repo, git } = makeSandbox();
    const other = join(makeTempDir('other'), 'other');
    mkdirSync(other);
    git(['init', '-q'], other);
    symlinkSync(other, join(repo, 'link-out'));
    const client = await spawnGit([repo], { HOME: home });
    expect(await refused(client, 'git_status', { repo_path: other })).toContain('outside the allowed repositories');
    expect(await refused(client, 'git_status', { repo_path: join(repo, '..', '..', 'x') })).toMatch(
      /does not exist|outside the allowed/,
    );
    expect(await refused(client, 'git_status', { repo_path: join(repo, 'link-out') })).toContain(
      'outside the allowed repositories',
    );
    expect(await refused(client, 'git_status', { repo_path: `${repo}\0/x` })).toContain('NUL byte');
    expect(await refused(client, 'git_log', { repo_path: '/' })).toContain('outside the allowed repositories');
    // A relative repo_path is taken against the repository; a subdirectory works on its repository.
    mkdirSync(join(repo, 'sub'));
    expect(await text(client, 'git_status', { repo_path: '.' })).toContain('On branch main');
    expect(await text(client, 'git_status', { repo_path: join(repo, 'sub') })).toContain('On branch main');
  });

  it('refuses a configured directory whose enclosing repository lies outside it', async () => {
    const { home, repo } = makeSandbox();
    const inner = join(repo, 'inner');
    mkdirSync(inner);
    const client = await spawnGit([inner], { HOME: home });
    expect(await refused(client, 'git_status', { repo_path: inner })).toContain(
      'which is outside the allowed repositories',
    );
    const notRepo = makeTempDir('plain');
    const plain = await spawnGit([notRepo], { HOME: home });
    expect(await refused(plain, 'git_status', { repo_path: notRepo })).toContain('is not a git working tree');
  });

  it('cuts output at the cap and says so', async () => {
    const { home, repo, git } = makeSandbox();
    writeFileSync(join(repo, 'big.txt'), 'x\n');
    git(['add', 'big.txt']);
    git(['commit', '-q', '-m', 'big']);
    writeFileSync(join(repo, 'big.txt'), `${'y'.repeat(79)}\n`.repeat(20_000));
    const client = await spawnGit([repo], { HOME: home });
    const diff = await text(client, 'git_diff_unstaged', { repo_path: repo });
    expect(diff.length).toBeLessThan(1024 * 1024 + 200);
    expect(diff).toMatch(/\[output truncated at 1048576 characters; ask for less/);
    expect(await text(client, 'git_status', { repo_path: repo })).toContain('modified:   big.txt');
  });
});

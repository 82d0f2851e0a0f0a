import { execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
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
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT_FORMAT } from '../../src/children/git/index.js';
import { CLIENT_ROOTS_META_KEY } from '../../src/children/shared/client-roots.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { refused, requireBuilt, text, textOf } from '../helpers/stdio-child.js';

const CHILD = builtinChildEntry('git');

const clients: Client[] = [];
const dirs: string[] = [];

/** A new temp dir, removed after the test (or by whoever owns `owner`). */
function makeTempDir(label: string, owner: string[] = dirs): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `omnimind-git-${label}-`)));
  owner.push(dir);
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

async function spawnGit(
  repositories: string[],
  env: Record<string, string>,
  owner: { clients: Client[]; dirs: string[] } = { clients, dirs },
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CHILD],
    env: {
      ...(process.env as Record<string, string>),
      ...env,
      OMNIMIND_DATA_DIR: makeTempDir('data', owner.dirs),
      OMNIMIND_CHILD_CONFIG: JSON.stringify({ repositories }),
    },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'git-test', version: '1.0.0' });
  await client.connect(transport);
  owner.clients.push(client);
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

  it('runs no hook planted in the repository, and no alias (which it accepts: git never expands one here)', async () => {
    const { home, repo, git } = makeSandbox();
    const trap = makeTempDir('trap');
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'post-checkout']) {
      const script = join(repo, '.git', 'hooks', hook);
      writeFileSync(script, `#!/bin/sh\ntouch "${join(trap, hook)}"\n`, { mode: 0o755 });
    }
    for (const command of ['status', 'add', 'commit', 'branch', 'checkout', 'log', 'diff', 'show', 'rev-parse']) {
      git(['config', `alias.${command}`, `!touch "${join(trap, `alias-${command}`)}"`]);
    }
    const client = await spawnGit([repo], { HOME: home });
    writeFileSync(join(repo, 'c.txt'), 'sea\n');
    await text(client, 'git_status', { repo_path: repo });
    await text(client, 'git_add', { repo_path: repo, files: ['c.txt'] });
    await text(client, 'git_commit', { repo_path: repo, message: 'With hooks around' });
    await text(client, 'git_create_branch', { repo_path: repo, branch_name: 'side' });
    await text(client, 'git_checkout', { repo_path: repo, branch_name: 'side' });
    await text(client, 'git_log', { repo_path: repo });
    await text(client, 'git_diff', { repo_path: repo, target: 'HEAD~1' });
    await text(client, 'git_show', { repo_path: repo, revision: 'HEAD' });
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

/** A repository config that makes git run a command: the entries, and what else the repository needs for it. */
interface Plant {
  /**
   * Entries for `.git/config`; `$CMD` stands for a shell command and `$SCRIPT` for a program that touch this plant's
   * marker file.
   */
  config: [string, string][];
  /** Entries for `.git/config.worktree`. */
  worktreeConfig?: [string, string][];
  /** A committed `.gitattributes` naming the driver. */
  attributes?: string;
  /** The key the refusal must name. */
  refused: string;
  /** git arguments that, run directly (by a person), do run the command: proof that the plant is live. */
  trigger?: string[];
}

/** Every command-running key checked: each one alone makes the repository refused. */
const PLANTS: Record<string, Plant> = {
  'filter clean': {
    config: [['filter.x.clean', '$CMD']],
    attributes: '* filter=x',
    refused: 'filter.x.clean',
    trigger: ['diff'],
  },
  'filter smudge': {
    config: [['filter.x.smudge', '$CMD']],
    attributes: '* filter=x',
    refused: 'filter.x.smudge',
    trigger: ['checkout', '--', 'a.txt'],
  },
  'filter process': {
    config: [['filter.x.process', '$CMD']],
    attributes: '* filter=x',
    refused: 'filter.x.process',
    trigger: ['diff'],
  },
  textconv: {
    config: [['diff.x.textconv', '$CMD']],
    attributes: '* diff=x',
    refused: 'diff.x.textconv',
    trigger: ['diff'],
  },
  'diff driver': {
    config: [['diff.x.command', '$CMD']],
    attributes: '* diff=x',
    refused: 'diff.x.command',
    trigger: ['diff'],
  },
  'external diff': { config: [['diff.external', '$CMD']], refused: 'diff.external', trigger: ['diff'] },
  'merge driver': { config: [['merge.x.driver', '$CMD']], attributes: '* merge=x', refused: 'merge.x.driver' },
  fsmonitor: { config: [['core.fsmonitor', '$CMD']], refused: 'core.fsmonitor', trigger: ['status'] },
  'hooks path': {
    config: [['core.hooksPath', '$HOOKS']],
    refused: 'core.hookspath',
    trigger: ['commit', '--allow-empty', '-qm', 'hooked'],
  },
  pager: { config: [['core.pager', '$CMD']], refused: 'core.pager' },
  'pager.log': { config: [['pager.log', '$CMD']], refused: 'pager.log' },
  'pager.diff': { config: [['pager.diff', '$CMD']], refused: 'pager.diff' },
  'pager.status': { config: [['pager.status', '$CMD']], refused: 'pager.status' },
  'pager.show': { config: [['pager.show', '$CMD']], refused: 'pager.show' },
  editor: { config: [['core.editor', '$CMD']], refused: 'core.editor', trigger: ['commit', '--allow-empty'] },
  'sequence editor': { config: [['sequence.editor', '$CMD']], refused: 'sequence.editor' },
  'ssh command': { config: [['core.sshCommand', '$CMD']], refused: 'core.sshcommand' },
  askpass: { config: [['core.askPass', '$SCRIPT']], refused: 'core.askpass' },
  'credential helper': { config: [['credential.helper', '!$CMD']], refused: 'credential.helper' },
  'credential helper for a URL': {
    config: [['credential.https://example.com.helper', '!$CMD']],
    refused: 'credential.https://example.com.helper',
  },
  'gpg program': {
    config: [['gpg.program', '$SCRIPT']],
    refused: 'gpg.program',
    trigger: ['commit', '--allow-empty', '-S', '-qm', 'signed'],
  },
  'gpg ssh program': { config: [['gpg.ssh.program', '$SCRIPT']], refused: 'gpg.ssh.program' },
  'gpg x509 program': { config: [['gpg.x509.program', '$SCRIPT']], refused: 'gpg.x509.program' },
  'signing on': { config: [['commit.gpgSign', 'true']], refused: 'commit.gpgsign' },
  include: {
    config: [['include.path', '$INCLUDE']],
    attributes: '* filter=x',
    refused: 'include.path',
    trigger: ['diff'],
  },
  includeIf: {
    config: [['includeIf.gitdir:/.path', '$INCLUDE']],
    attributes: '* filter=x',
    refused: 'includeif.gitdir:/.path',
    trigger: ['diff'],
  },
  'git proxy': { config: [['core.gitProxy', '$SCRIPT']], refused: 'core.gitproxy' },
  'upload pack': {
    config: [
      ['remote.origin.url', '$SELF'],
      ['remote.origin.uploadpack', 'touch "$MARKER"; git-upload-pack'],
    ],
    refused: 'remote.origin.uploadpack',
    trigger: ['fetch', 'origin'],
  },
  'receive pack': { config: [['remote.origin.receivepack', '$CMD']], refused: 'remote.origin.receivepack' },
  'attributes file': { config: [['core.attributesFile', '$INCLUDE']], refused: 'core.attributesfile' },
  'work tree elsewhere': { config: [['core.worktree', '$HOOKS']], refused: 'core.worktree' },
  bare: { config: [['core.bare', 'true']], refused: 'core.bare' },
  'worktree config': {
    config: [['extensions.worktreeConfig', 'true']],
    worktreeConfig: [['filter.x.clean', '$CMD']],
    attributes: '* filter=x',
    refused: 'filter.x.clean',
    trigger: ['diff'],
  },
  'worktree config without the extension': {
    config: [],
    worktreeConfig: [['diff.external', '$CMD']],
    refused: 'diff.external',
  },
};

/** Every tool the refusal is checked for, with arguments that would reach the planted command. */
const TOOL_CALLS: [string, Record<string, unknown>][] = [
  ['git_status', {}],
  ['git_diff_unstaged', {}],
  ['git_diff_staged', {}],
  ['git_diff', { target: 'HEAD' }],
  ['git_add', { files: ['a.txt'] }],
  ['git_commit', { message: 'planted' }],
  ['git_log', {}],
  ['git_show', { revision: 'HEAD' }],
];

describe('git child: no configured command ever runs', () => {
  describe('a planted-config repository for each command-running key', () => {
    // One child serves every planted repository; each key is its own test.
    const shared = { clients: [] as Client[], dirs: [] as string[] };
    let home: string;
    let trap: string;
    let client: Client;
    let cases: Map<string, { plant: Plant; repo: string; marker: string }>;

    beforeAll(async () => {
      home = makeTempDir('home', shared.dirs);
      writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Test Author\n\temail = author@example.com\n');
      const base = makeTempDir('planted', shared.dirs);
      trap = makeTempDir('trap', shared.dirs);
      const planted = Object.entries(PLANTS).map(([name, plant], index) => {
        const repo = join(base, `r${index}`);
        const marker = join(trap, `r${index}`);
        const side = makeTempDir('side', shared.dirs);
        const hooks = join(side, 'hooks');
        mkdirSync(hooks);
        for (const hook of ['pre-commit', 'commit-msg', 'post-commit']) {
          writeFileSync(join(hooks, hook), `#!/bin/sh\ntouch "${marker}"\n`, { mode: 0o755 });
        }
        const command = `touch "${marker}"; cat`;
        const script = join(side, 'script');
        writeFileSync(script, `#!/bin/sh\ntouch "${marker}"\ncat\n`, { mode: 0o755 });
        const include = join(side, 'included');
        writeFileSync(include, `[filter "x"]\n\tclean = ${command}\n\tsmudge = ${command}\n`);
        const expand = (value: string) =>
          value
            .replaceAll('$CMD', command)
            .replaceAll('$SCRIPT', script)
            .replaceAll('$MARKER', marker)
            .replaceAll('$HOOKS', hooks)
            .replaceAll('$INCLUDE', include)
            .replaceAll('$SELF', repo);
        mkdirSync(repo);
        const git = (args: string[]) => execFileSync('git', args, { cwd: repo, env: cleanEnv(home), encoding: 'utf8' });
        git(['init', '-q']);
        writeFileSync(join(repo, 'a.txt'), 'one\n');
        if (plant.attributes) writeFileSync(join(repo, '.gitattributes'), `${plant.attributes}\n`);
        git(['add', '.']);
        git(['commit', '-qm', 'First']);
        writeFileSync(join(repo, 'a.txt'), 'one\ntwo\n');
        writeFileSync(join(repo, 'staged.txt'), 'staged\n');
        git(['add', 'staged.txt']);
        for (const [key, value] of plant.worktreeConfig ?? []) {
          git(['config', '--file', join(repo, '.git', 'config.worktree'), key, expand(value)]);
        }
        for (const [key, value] of plant.config)
          git(['config', '--file', join(repo, '.git', 'config'), key, expand(value)]);
        return { name, plant, repo, marker };
      });
      cases = new Map(planted.map(({ name, ...rest }) => [name, rest]));
      client = await spawnGit([base], { HOME: home }, shared);
    });

    afterAll(async () => {
      for (const opened of shared.clients.splice(0)) await opened.close();
      for (const dir of shared.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it.each(Object.keys(PLANTS))('%s: every tool refuses the repository and the command never runs', async (name) => {
      const { plant, repo, marker } = cases.get(name)!;
      for (const [tool, args] of TOOL_CALLS) {
        const message = await refused(client, tool, { repo_path: repo, ...args });
        expect(message, tool).toContain(`Refusing the repository at ${repo}`);
        expect(message, tool).toContain(plant.refused);
      }
      expect(existsSync(marker)).toBe(false);
      if (plant.trigger) {
        // The plant is live: the same repository, used by git directly, does run the command.
        spawnSync('git', plant.trigger, { cwd: repo, env: cleanEnv(home), stdio: 'ignore', timeout: 10_000 });
        expect(existsSync(marker), `git ${plant.trigger.join(' ')} should run the planted command`).toBe(true);
      }
    });
  });

  it('refuses a bare layout with core.worktree written with plain file writes, which git itself would follow', async () => {
    const home = makeSandbox().home;
    const root = makeTempDir('root');
    const trap = makeTempDir('trap');
    const marker = join(trap, 'pwned');
    // Only files and directories a filesystem tool can write: no `.git` in any path.
    const evil = join(root, 'project');
    mkdirSync(join(evil, 'objects'), { recursive: true });
    mkdirSync(join(evil, 'refs', 'heads'), { recursive: true });
    mkdirSync(join(evil, 'sub'));
    writeFileSync(join(evil, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(
      join(evil, 'config'),
      `[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = ${evil}\n` +
        `[filter "x"]\n\tclean = touch "${marker}"; cat\n`,
    );
    writeFileSync(join(evil, '.gitattributes'), '* filter=x\n');
    writeFileSync(join(evil, 'a.txt'), 'innocent\n');

    const client = await spawnGit([root], { HOME: home });
    for (const repo_path of [evil, join(evil, 'sub'), join(evil, 'objects')]) {
      for (const [tool, args] of [...TOOL_CALLS, ['git_add', { files: ['.'] }] as const]) {
        const message = await refused(client, tool, { repo_path, ...args });
        expect(message).toContain(`${evil} is a git directory or a bare repository`);
      }
    }
    expect(existsSync(marker)).toBe(false);

    // git itself takes the directory for a repository whose working tree is itself, and runs the filter.
    spawnSync('git', ['add', 'a.txt'], { cwd: evil, env: cleanEnv(home), stdio: 'ignore', timeout: 10_000 });
    expect(existsSync(marker)).toBe(true);
  });

  it('refuses a .git file or link, and a path inside a .git directory', async () => {
    const { home, repo, git } = makeSandbox();
    const linked = join(makeTempDir('linked'), 'wt');
    git(['worktree', 'add', '-q', linked]);
    const pointer = join(repo, 'pointer');
    mkdirSync(pointer);
    writeFileSync(join(pointer, '.git'), `gitdir: ${join(repo, '.git')}\n`);
    const linkDir = join(repo, 'link-dir');
    mkdirSync(linkDir);
    symlinkSync(join(repo, '.git'), join(linkDir, '.git'));
    const client = await spawnGit([repo, linked], { HOME: home });
    expect(await refused(client, 'git_status', { repo_path: linked })).toContain('.git is a file, not a directory');
    expect(await refused(client, 'git_status', { repo_path: pointer })).toContain('.git is a file, not a directory');
    expect(await refused(client, 'git_status', { repo_path: linkDir })).toContain('.git is a symbolic link');
    expect(await refused(client, 'git_log', { repo_path: join(repo, '.git') })).toContain(
      'is a git directory or a bare repository',
    );
    expect(await refused(client, 'git_log', { repo_path: join(repo, '.git', 'refs') })).toContain(
      'is a git directory or a bare repository',
    );
    expect(await text(client, 'git_status', { repo_path: repo })).toContain('On branch main');
  });

  it('refuses a config too large to check whole, rather than check only its start', async () => {
    const { home, repo } = makeSandbox();
    const trap = makeTempDir('trap');
    const aliases = Array.from({ length: 40_000 }, (_, index) => `\ta${index} = log --oneline --graph\n`).join('');
    const config = join(repo, '.git', 'config');
    writeFileSync(
      config,
      `${readFileSync(config, 'utf8')}[alias]\n${aliases}[diff]\n\texternal = touch "${join(trap, 'x')}"\n`,
    );
    const client = await spawnGit([repo], { HOME: home });
    writeFileSync(join(repo, 'a.txt'), 'changed\n');
    expect(await refused(client, 'git_diff_unstaged', { repo_path: repo })).toContain('is too large to be checked');
    expect(readdirSync(trap)).toEqual([]);
  });

  it('refuses a repository owned by another user, as git itself does', async () => {
    const { home, repo } = makeSandbox();
    const client = await spawnGit([repo], { HOME: home });
    expect(await text(client, 'git_status', { repo_path: repo })).toContain('On branch main');
    // The tests run as root (CI does); nobody's uid stands for another user.
    chownSync(join(repo, '.git'), 65534, 65534);
    expect(await refused(client, 'git_status', { repo_path: repo })).toContain(
      `${join(repo, '.git')} is owned by uid 65534, not by this user`,
    );
    chownSync(join(repo, '.git'), process.getuid!(), process.getgid!());
    chownSync(repo, 65534, 65534);
    expect(await refused(client, 'git_log', { repo_path: repo })).toContain(`${repo} is owned by uid 65534`);
  });

  it('never starts git in a submodule, whose own config is not vetted', async () => {
    const { home, repo, git } = makeSandbox();
    const trap = makeTempDir('trap');
    const marker = join(trap, 'submodule-filter');
    const upstream = join(makeTempDir('upstream'), 'lib');
    mkdirSync(upstream);
    git(['init', '-q'], upstream);
    writeFileSync(join(upstream, '.gitattributes'), '* filter=x\n');
    writeFileSync(join(upstream, 'lib.txt'), 'lib\n');
    git(['add', '.'], upstream);
    git(['commit', '-qm', 'lib'], upstream);
    git(['-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', upstream, 'lib']);
    git(['commit', '-qm', 'With a submodule']);
    git([
      'config',
      '--file',
      join(repo, '.git', 'modules', 'lib', 'config'),
      'filter.x.clean',
      `touch "${marker}"; cat`,
    ]);
    writeFileSync(join(repo, 'lib', 'lib.txt'), 'changed\n');

    const client = await spawnGit([repo], { HOME: home });
    for (const [tool, args] of TOOL_CALLS.filter(([tool]) => tool !== 'git_commit' && tool !== 'git_add')) {
      await text(client, tool, { repo_path: repo, ...args });
    }
    expect(existsSync(marker)).toBe(false);

    // git status run directly looks into the submodule and runs its filter.
    git(['status']);
    expect(existsSync(marker)).toBe(true);
  });
});

/** Calls a tool the way the gateway forwards a client's request: with that client's roots in `_meta`. */
async function callAs(
  client: Client,
  roots: string[] | undefined,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const _meta = roots === undefined ? undefined : { [CLIENT_ROOTS_META_KEY]: roots };
  return (await client.callTool({ name, arguments: args, _meta })) as CallToolResult;
}

function fileUri(path: string): string {
  return pathToFileURL(path).href;
}

describe('git child: per-request client roots', () => {
  /** Two repositories side by side under one configured directory. */
  function twoRepositories(): { home: string; base: string; a: string; b: string } {
    const { home, repo, git } = makeSandbox();
    const base = dirname(repo);
    const b = join(base, 'other');
    mkdirSync(b);
    git(['init', '-q'], b);
    writeFileSync(join(b, 'b.txt'), 'bee\n');
    git(['add', '.'], b);
    git(['commit', '-qm', 'Other first commit'], b);
    return { home, base, a: repo, b };
  }

  it('confines each request to its own client roots on one connection, interleaved', async () => {
    const { home, base, a, b } = twoRepositories();
    const client = await spawnGit([base], { HOME: home });
    const rootsA = [fileUri(a)];
    const rootsB = [fileUri(b)];
    for (let round = 0; round < 3; round++) {
      const [aOnA, bOnB, aOnB, bOnA] = await Promise.all([
        callAs(client, rootsA, 'git_log', { repo_path: a }),
        callAs(client, rootsB, 'git_log', { repo_path: b }),
        callAs(client, rootsA, 'git_log', { repo_path: b }),
        callAs(client, rootsB, 'git_log', { repo_path: a }),
      ]);
      expect(aOnA.isError, textOf(aOnA)).toBeFalsy();
      expect(textOf(aOnA)).toContain('Message: Second commit');
      expect(bOnB.isError, textOf(bOnB)).toBeFalsy();
      expect(textOf(bOnB)).toContain('Message: Other first commit');
      expect(aOnB.isError).toBe(true);
      expect(textOf(aOnB)).toContain(`is outside the allowed repositories: ${a}`);
      expect(bOnA.isError).toBe(true);
      expect(textOf(bOnA)).toContain(`is outside the allowed repositories: ${b}`);
    }
    // A relative repo_path is taken against the request's first root.
    expect(textOf(await callAs(client, rootsB, 'git_log', { repo_path: '.' }))).toContain('Other first commit');
    // No roots in the request: the configured repositories apply.
    expect(textOf(await callAs(client, undefined, 'git_log', { repo_path: a }))).toContain('Second commit');
    expect(textOf(await callAs(client, undefined, 'git_log', { repo_path: b }))).toContain('Other first commit');
  });

  it('intersects client roots with the configured repositories, by real path', async () => {
    const { home, base, a, b } = twoRepositories();
    const outside = join(makeTempDir('outside'), 'elsewhere');
    mkdirSync(outside);
    execFileSync('git', ['init', '-q'], { cwd: outside, env: cleanEnv(home) });
    symlinkSync(outside, join(a, 'escape'));
    const client = await spawnGit([a], { HOME: home });

    // A client root outside every configured repository reaches nothing, and says whose roots.
    let result = await callAs(client, [fileUri(outside)], 'git_status', { repo_path: outside });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`No repository is reachable: this client's roots (${fileUri(outside)})`);
    result = await callAs(client, [fileUri(b)], 'git_status', { repo_path: a });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('No repository is reachable');
    // A client root that is a symbolic link inside a repository, pointing outside, widens nothing.
    result = await callAs(client, [fileUri(join(a, 'escape'))], 'git_status', { repo_path: outside });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('No repository is reachable');
    result = await callAs(client, [fileUri(join(a, 'escape'))], 'git_status', { repo_path: join(a, 'escape') });
    expect(result.isError).toBe(true);
    // An empty list, non-file URIs and relative paths count for nothing.
    for (const roots of [[], ['https://example.com/repo', 'relative/dir', 'file:relative']]) {
      result = await callAs(client, roots, 'git_status', { repo_path: a });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('No repository is reachable');
    }
    const many = Array.from({ length: 1_001 }, (_, index) => fileUri(join(a, `r${index}`)));
    expect(textOf(await callAs(client, many, 'git_status', { repo_path: a }))).toContain('Too many client roots: 1001');
    // A client root enclosing the configured repository counts as the configured repository.
    result = await callAs(client, ['https://example.com/x', fileUri(base)], 'git_status', { repo_path: a });
    expect(result.isError, textOf(result)).toBeFalsy();
    result = await callAs(client, [fileUri(base)], 'git_status', { repo_path: b });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`is outside the allowed repositories: ${a}`);
    // A client root inside the repository narrows it: the repository's top then lies outside the reach.
    mkdirSync(join(a, 'sub'));
    result = await callAs(client, [fileUri(join(a, 'sub'))], 'git_status', { repo_path: join(a, 'sub') });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(
      `belongs to the git repository at ${a}, which is outside the allowed repositories`,
    );
  });

  it('never asks the client for its roots, even when the client offers them', async () => {
    const { home, repo } = makeSandbox();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CHILD],
      env: {
        ...(process.env as Record<string, string>),
        HOME: home,
        OMNIMIND_DATA_DIR: makeTempDir('data'),
        OMNIMIND_CHILD_CONFIG: JSON.stringify({ repositories: [repo] }),
      },
      stderr: 'ignore',
    });
    const client = new Client(
      { name: 'roots-test', version: '1.0.0' },
      { capabilities: { roots: { listChanged: true } } },
    );
    let asked = 0;
    client.setRequestHandler(ListRootsRequestSchema, () => {
      asked++;
      return { roots: [{ uri: fileUri(repo) }] };
    });
    await client.connect(transport);
    clients.push(client);
    await client.sendRootsListChanged();
    expect(await text(client, 'git_status', { repo_path: repo })).toContain('On branch main');
    await client.sendRootsListChanged();
    expect(await text(client, 'git_log', { repo_path: repo })).toContain('Second commit');
    expect(asked).toBe(0);
  });
});

import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addToClient,
  BACKUP_SUFFIX,
  type ClientEnvironment,
  type ClientId,
  listClients,
  removeFromClient,
  type ServerEntry,
  unifiedDiff,
} from '../../../src/clients/index.js';

const entry: ServerEntry = {
  command: '/usr/bin/node',
  args: ['/opt/omnimind/bin/omnimind.js', 'connect', 'omnimind'],
  env: {},
};

/** A config file of each client as its users have them: other servers, other settings, its own layout. */
const FIXTURES: Record<ClientId, { path: string; text: string }> = {
  'claude-code': {
    path: '.claude.json',
    text:
      '{\n  "numStartups": 12,\n  "projects": {\n    "/home/me/app": {\n      "allowedTools": [],\n      "mcpServers": {}\n' +
      '    }\n  },\n  "mcpServers": {\n    "github": {\n      "type": "stdio",\n      "command": "npx",\n' +
      '      "args": ["-y", "@modelcontextprotocol/server-github"],\n      "env": {"GITHUB_TOKEN": "ghp_x"}\n    }\n  },\n' +
      '  "oauthAccount": {"emailAddress": "me@example.com"}\n}',
  },
  'claude-desktop': {
    path: '.config/Claude/claude_desktop_config.json',
    text: '{\n  "globalShortcut": "Ctrl+Space",\n  "mcpServers": {\n    "filesystem": {\n      "command": "npx",\n      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"]\n    }\n  }\n}\n',
  },
  cursor: {
    path: '.cursor/mcp.json',
    text: '{\n    "mcpServers": {\n        "playwright": { "command": "npx", "args": ["@playwright/mcp@latest"] }\n    }\n}\n',
  },
  vscode: {
    path: '.config/Code/User/mcp.json',
    text:
      '// Servers for every workspace\n{\n\t"servers": {\n\t\t"fetch": {\n\t\t\t"type": "stdio",\n\t\t\t"command": "uvx",\n' +
      '\t\t\t"args": ["mcp-server-fetch"], // no key needed\n\t\t},\n\t},\n\t"inputs": []\n}\n',
  },
  windsurf: { path: '.codeium/windsurf/mcp_config.json', text: '{\n  "mcpServers": {}\n}\n' },
  'gemini-cli': {
    path: '.gemini/settings.json',
    text: '{\n  "theme": "GitHub",\n  "selectedAuthType": "oauth-personal",\n  "mcpServers": {\n    "git": {"command": "uvx", "args": ["mcp-server-git"]}\n  }\n}\n',
  },
  codex: {
    path: '.codex/config.toml',
    text:
      'model = "gpt-5-codex"\napproval_policy = "on-request"\n\n# docs lookups\n[mcp_servers.context7]\ncommand = "npx"\n' +
      'args = ["-y", "@upstash/context7-mcp"]\n\n[profiles.fast]\nmodel = "o4-mini"\n',
  },
};

/** The servers map of a client's file, whatever its format. */
function serversIn(id: ClientId, text: string): Record<string, Record<string, unknown>> {
  if (id === 'codex') return (parseToml(text) as { mcp_servers: Record<string, Record<string, unknown>> }).mcp_servers;
  return parseJsonc(text, [], { allowTrailingComma: true })[id === 'vscode' ? 'servers' : 'mcpServers'];
}

let dir: string;
let environment: ClientEnvironment;
const home = () => environment.home;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'om-clients-'));
  environment = { home: join(dir, 'home'), cwd: join(dir, 'project'), env: { HOME: join(dir, 'home') } };
  mkdirSync(environment.home);
  mkdirSync(environment.cwd);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fixture(id: ClientId, text = FIXTURES[id].text, mode = 0o640): string {
  const path = join(home(), FIXTURES[id].path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

const user = (endpoint = 'omnimind') => ({ endpoint, scope: 'user' as const, dryRun: false, environment });

describe.each(Object.keys(FIXTURES) as ClientId[])('clients add/remove on %s', (id) => {
  it('adds the entry in the shape the client reads, changes no other byte, backs up, and removes it again', () => {
    const path = fixture(id);
    const original = readFileSync(path, 'utf8');
    const added = addToClient(id, entry, user());
    expect(added).toMatchObject({ outcome: 'added', file: path, name: 'omnimind', backup: `${path}${BACKUP_SUFFIX}` });
    const text = readFileSync(path, 'utf8');
    const stored = serversIn(id, text).omnimind;
    expect(stored).toMatchObject({ command: entry.command, args: entry.args });
    expect(stored?.type).toBe(id === 'vscode' || id === 'claude-code' ? 'stdio' : undefined);
    // Nothing of the original is lost: the one line the diff may take away comes back with a comma after it, or
    // opening the empty object it closed.
    const lines = added.diff.split('\n');
    const removed = lines.filter((l) => l.startsWith('-') && !l.startsWith('---'));
    expect(removed.length).toBeLessThanOrEqual(1);
    for (const line of removed) {
      expect([`+${line.slice(1)},`, `+${line.slice(1).replace(/\{\}(,?)$/, '{')}`].some((l) => lines.includes(l))).toBe(
        true,
      );
    }
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readFileSync(`${path}${BACKUP_SUFFIX}`, 'utf8')).toBe(original);
    expect(statSync(`${path}${BACKUP_SUFFIX}`).mode & 0o777).toBe(0o600);

    const mtime = statSync(path).mtimeMs;
    expect(addToClient(id, entry, user())).toMatchObject({ outcome: 'unchanged', diff: '', backup: undefined });
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(statSync(path).mtimeMs).toBe(mtime);

    expect(removeFromClient(id, user())).toMatchObject({ outcome: 'removed' });
    expect(readFileSync(path, 'utf8')).toBe(original);
    expect(removeFromClient(id, user())).toMatchObject({ outcome: 'absent', diff: '' });
  });

  it('with --dry-run returns the unified diff and writes nothing', () => {
    const path = fixture(id);
    const change = addToClient(id, entry, { ...user('memory'), dryRun: true });
    expect(change.outcome).toBe('added');
    expect(change.name).toBe('omnimind-memory');
    expect(change.diff).toMatch(new RegExp(`^--- ${path}\\n\\+\\+\\+ ${path}\\n@@ -\\d+,\\d+ \\+\\d+,\\d+ @@\\n`));
    expect(change.diff).toContain('omnimind-memory');
    expect(readFileSync(path, 'utf8')).toBe(FIXTURES[id].text);
    expect(() => statSync(`${path}${BACKUP_SUFFIX}`)).toThrow();
  });

  it('leaves a malformed file alone and says which file and where', () => {
    const broken = id === 'codex' ? 'model = "o3"\n[mcp_servers.x\n' : '{\n  "mcpServers": {\n    "x": {,\n  }\n}\n';
    const path = fixture(id, broken);
    const format = id === 'codex' ? 'TOML' : 'JSON';
    expect(() => addToClient(id, entry, user())).toThrow(
      new RegExp(`^${path} is not valid ${format} \\(.+ at line \\d+, column \\d+\\)`),
    );
    expect(() => removeFromClient(id, user())).toThrow(`${path} is not valid ${format}`);
    expect(readFileSync(path, 'utf8')).toBe(broken);
    expect(() => statSync(`${path}${BACKUP_SUFFIX}`)).toThrow();
  });
});

describe('clients add/remove: files and scopes', () => {
  it('replaces an entry that points elsewhere (an older install) and keeps its neighbours', () => {
    const path = fixture('cursor');
    addToClient('cursor', { ...entry, command: '/old/node' }, user());
    const change = addToClient('cursor', entry, user());
    expect(change.outcome).toBe('updated');
    expect(change.diff).toContain('-            "command": "/old/node",');
    expect(serversIn('cursor', readFileSync(path, 'utf8'))).toMatchObject({
      playwright: { command: 'npx' },
      omnimind: { command: '/usr/bin/node' },
    });
  });

  it('writes the project files in the current directory, created with the umask', () => {
    const change = addToClient('claude-code', entry, { ...user(), scope: 'project' });
    expect(change).toMatchObject({ outcome: 'added', file: join(environment.cwd, '.mcp.json'), backup: undefined });
    expect(JSON.parse(readFileSync(change.file, 'utf8'))).toEqual({
      mcpServers: { omnimind: { type: 'stdio', command: entry.command, args: entry.args } },
    });
    const vscode = addToClient('vscode', entry, { ...user('git'), scope: 'project' });
    expect(vscode.file).toBe(join(environment.cwd, '.vscode', 'mcp.json'));
    expect(serversIn('vscode', readFileSync(vscode.file, 'utf8'))['omnimind-git']).toMatchObject({ type: 'stdio' });
    const umask = process.umask();
    expect(statSync(vscode.file).mode & 0o777).toBe(0o666 & ~umask);
    expect(addToClient('codex', entry, { ...user(), scope: 'project' }).file).toBe(
      join(environment.cwd, '.codex', 'config.toml'),
    );
  });

  it("creates a found client's missing user file 0600 in a 0700 directory", () => {
    mkdirSync(join(home(), '.config', 'Code'), { recursive: true });
    const change = addToClient('vscode', { ...entry, env: { OMNIMIND_RUNTIME_DIR: '/srv/run' } }, user());
    expect(change.file).toBe(join(home(), '.config', 'Code', 'User', 'mcp.json'));
    expect(statSync(change.file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(change.file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(change.file, 'utf8')).servers.omnimind.env).toEqual({
      OMNIMIND_RUNTIME_DIR: '/srv/run',
    });
  });

  it('says so in one sentence when the file cannot be reached or its directory cannot be made', () => {
    writeFileSync(join(environment.cwd, '.vscode'), 'not a directory');
    expect(() => addToClient('vscode', entry, { ...user(), scope: 'project' })).toThrow(
      new RegExp(
        `^Cannot read ${join(environment.cwd, '.vscode', 'mcp.json')} \\(ENOTDIR: .*\\), so omnimind left it alone\\.$`,
      ),
    );
    mkdirSync(join(home(), '.config', 'Code'), { recursive: true });
    writeFileSync(join(home(), '.config', 'Code', 'User'), '');
    expect(() => addToClient('vscode', entry, user())).toThrow(/^Cannot read .*User\/mcp\.json \(ENOTDIR/);
    expect(readFileSync(join(environment.cwd, '.vscode'), 'utf8')).toBe('not a directory');
  });

  it('refuses a client that is not on this machine, and a scope the client does not have', () => {
    expect(() => addToClient('windsurf', entry, user())).toThrow(
      `Windsurf was not found on this machine (neither ${join(home(), '.codeium/windsurf/mcp_config.json')} nor ${join(home(), '.codeium/windsurf')} exists)`,
    );
    expect(() => addToClient('claude-desktop', entry, { ...user(), scope: 'project' })).toThrow(
      'Claude Desktop has no project configuration; use --scope user.',
    );
  });

  it('refuses a read-only file, whoever runs it', () => {
    const path = fixture('gemini-cli', FIXTURES['gemini-cli'].text, 0o444);
    expect(() => addToClient('gemini-cli', entry, user())).toThrow(
      `${path} is read-only (mode 0444), so omnimind left it unchanged: make it writable (chmod u+w ${path})`,
    );
    expect(readFileSync(path, 'utf8')).toBe(FIXTURES['gemini-cli'].text);
    expect(() => statSync(`${path}${BACKUP_SUFFIX}`)).toThrow();
  });

  it('writes through a symlink to a regular file of the user, keeping the link', () => {
    const real = join(dir, 'dotfiles', 'claude.json');
    mkdirSync(dirname(real));
    writeFileSync(real, FIXTURES['claude-code'].text);
    const link = join(home(), '.claude.json');
    symlinkSync(real, link);
    expect(addToClient('claude-code', entry, user())).toMatchObject({
      outcome: 'added',
      backup: `${link}${BACKUP_SUFFIX}`,
    });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(serversIn('claude-code', readFileSync(real, 'utf8')).omnimind).toBeDefined();
    expect(readFileSync(`${link}${BACKUP_SUFFIX}`, 'utf8')).toBe(FIXTURES['claude-code'].text);
  });

  it('refuses a symlink that dangles, points at a directory or at a file of another user', () => {
    mkdirSync(join(home(), '.cursor'));
    const link = join(home(), '.cursor', 'mcp.json');
    symlinkSync(join(dir, 'nowhere.json'), link);
    expect(() => addToClient('cursor', entry, user())).toThrow(
      `${link} is a symbolic link to ${join(dir, 'nowhere.json')}, which does not exist`,
    );
    rmSync(link);
    symlinkSync(dir, link);
    expect(() => addToClient('cursor', entry, user())).toThrow('which is not a regular file of yours');
    rmSync(link);
    // Root owns every file it makes: give the target away; anyone else links to a file root owns.
    let theirs = '/etc/passwd';
    if (process.getuid?.() === 0) {
      theirs = join(dir, 'theirs.json');
      writeFileSync(theirs, '{}');
      chownSync(theirs, 65534, 65534);
    }
    symlinkSync(theirs, link);
    expect(() => addToClient('cursor', entry, user())).toThrow(
      `${link} is a symbolic link to ${theirs}, which is not a regular file of yours`,
    );
  });
});

describe('clients list', () => {
  it('reports which clients are here, their files and the endpoints their omnimind entries reach', () => {
    fixture('cursor');
    addToClient('cursor', entry, user());
    addToClient('cursor', { ...entry, args: [entry.args[0] ?? '', 'connect', 'git'] }, user('git'));
    fixture('codex', '[mcp_servers.old]\ncommand = "npx"\nargs = ["omnimind", "connect", "memory"]\n');
    fixture('gemini-cli', '{ broken');
    writeFileSync(
      join(environment.cwd, '.mcp.json'),
      '{"mcpServers": {"omnimind": {"command": "/usr/local/bin/omnimind", "args": ["connect"]}}}',
    );
    const reports = listClients(environment);
    expect(reports.map((r) => [r.id, r.found])).toEqual([
      ['claude-code', false],
      ['claude-desktop', false],
      ['cursor', true],
      ['vscode', false],
      ['windsurf', false],
      ['gemini-cli', true],
      ['codex', true],
    ]);
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId.cursor?.files).toEqual([
      {
        scope: 'user',
        path: join(home(), '.cursor', 'mcp.json'),
        exists: true,
        entries: [
          { name: 'omnimind', endpoint: 'omnimind' },
          { name: 'omnimind-git', endpoint: 'git' },
        ],
      },
    ]);
    expect(byId.codex?.files[0]?.entries).toEqual([{ name: 'old', endpoint: 'memory' }]);
    expect(byId['gemini-cli']?.files[0]?.error).toMatch(/settings\.json is not valid JSON/);
    expect(byId['claude-code']?.files).toEqual([
      { scope: 'user', path: join(home(), '.claude.json'), exists: false, entries: [] },
      {
        scope: 'project',
        path: join(environment.cwd, '.mcp.json'),
        exists: true,
        entries: [{ name: 'omnimind', endpoint: 'omnimind' }],
      },
    ]);
  });
});

describe('unified diff', () => {
  it('prints hunks with three lines of context, like diff -u', () => {
    const before = `${['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n')}\n`;
    // Seven unchanged lines between two changes: two hunks; six: one.
    expect(unifiedDiff(before, before.replace('b\n', 'B\n').replace('i\n', 'i\nI\n'), 'f')).toBe(
      '--- f\n+++ f\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -7,4 +7,5 @@\n g\n h\n i\n+I\n j\n',
    );
    expect(unifiedDiff(before, before.replace('b\n', 'B\n').replace('h\n', 'h\nI\n'), 'f')).toBe(
      '--- f\n+++ f\n@@ -1,10 +1,11 @@\n a\n-b\n+B\n c\n d\n e\n f\n g\n h\n+I\n i\n j\n',
    );
    expect(unifiedDiff(undefined, 'x\n', 'new')).toBe('--- /dev/null\n+++ new\n@@ -0,0 +1,1 @@\n+x\n');
    expect(unifiedDiff('same', 'same', 'f')).toBe('');
  });
});

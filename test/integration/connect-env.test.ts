import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { TextContent } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, fixture, NO_BUILTINS, runCli } from '../helpers/harness.js';

// Every process here gets the environment an MCP client gives a stdio server: the SDK's defaults (HOME, LOGNAME,
// PATH, SHELL, TERM, USER) with HOME pointed at the test's home, and no OMNIMIND_* or XDG_* variable. On a machine
// where /run/user/<uid> exists the supervisor therefore uses the real per-user runtime directory, as a user's would.

interface StdioEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

let dir: string;
let home: string;
/** The environment of the shell that starts the supervisor, for stopping it again. */
let shell: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'om-env-'));
  home = join(dir, 'home');
  const configDir = join(home, '.config', 'omnimind');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    join(configDir, 'config.json'),
    JSON.stringify({ children: NO_BUILTINS, mcpServers: { echo: fixture() } }),
  );
  shell = { ...getDefaultEnvironment(), HOME: home, NO_COLOR: '1' };
});

afterEach(async () => {
  await runCli(['stop', '--timeout', '2'], shell, dir, { timeoutMs: 30_000 });
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `command args` the way an MCP client does (the SDK's default environment plus `env`, cwd `/`). */
async function connectAsClient(entry: StdioEntry): Promise<Client> {
  const client = new Client({ name: 'connect-env-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: entry.command, args: entry.args, env: { HOME: home, ...entry.env }, cwd: '/' }),
  );
  return client;
}

async function echo(client: Client, name: string, text: string): Promise<string | undefined> {
  const result = await client.callTool({ name, arguments: { text } });
  return (result.content as TextContent[])[0]?.text;
}

async function start(env: Record<string, string>): Promise<void> {
  shell = env;
  const started = await runCli(['start'], env, dir);
  expect(started, started.stderr).toMatchObject({ code: 0 });
}

describe('omnimind connect, spawned as an MCP client spawns it', () => {
  it("reaches a child with the SDK's default environment from /, and so does the entry `clients add` wrote", async () => {
    await start(shell);
    const direct = await connectAsClient({ command: process.execPath, args: [CLI, 'connect', 'echo'] });
    expect(await echo(direct, 'echo', 'from a minimal environment')).toBe('from a minimal environment');
    await direct.close();

    writeFileSync(join(home, '.claude.json'), '{\n  "numStartups": 3\n}\n');
    const preview = await runCli(['clients', 'add', 'claude-code', '--endpoint', 'echo', '--dry-run'], shell, dir);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^--- .*\.claude\.json\n\+\+\+ .*\.claude\.json\n@@ /);
    expect(readFileSync(join(home, '.claude.json'), 'utf8')).toBe('{\n  "numStartups": 3\n}\n');
    const added = await runCli(['clients', 'add', 'claude-code', '--endpoint', 'echo'], shell, dir);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    const written = JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'));
    expect(written.numStartups).toBe(3);
    const entry = written.mcpServers['omnimind-echo'] as StdioEntry;
    // The shell's runtime directory is the one HOME alone gives: the entry needs no environment.
    expect(entry.env).toBeUndefined();
    const fromEntry = await connectAsClient(entry);
    expect(await echo(fromEntry, 'echo', 'as written')).toBe('as written');
    await fromEntry.close();
    const again = await runCli(['clients', 'add', 'claude-code', '--endpoint', 'echo'], shell, dir);
    expect(again.stdout).toContain('nothing changed');
    const list = JSON.parse((await runCli(['clients', '--json'], shell, dir)).stdout);
    expect(list.clients[0]).toMatchObject({
      id: 'claude-code',
      found: true,
      files: [{ entries: [{ endpoint: 'echo' }] }],
    });
    expect((await runCli(['clients'], shell, dir)).stdout).toMatch(
      /^claude-code +yes +user +\S+\.claude\.json +echo$/m,
    );
    const removed = await runCli(['clients', 'remove', 'claude-code', '--endpoint', 'echo'], shell, dir);
    expect(removed.stdout).toMatch(
      /^Removed "omnimind-echo" in Claude Code's \S+\.claude\.json \(the previous content is in /,
    );
    expect(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')).mcpServers).toEqual({});

    const missing = await runCli(['connect', 'nosuch'], shell, '/');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no endpoint "nosuch": `omnimind status` lists them\.\n$/);
  });

  it('carries OMNIMIND_RUNTIME_DIR in the entry when the shell had a runtime directory the minimal environment cannot derive', async () => {
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    await start({ ...shell, XDG_RUNTIME_DIR: xdg });
    // What a hand-written entry without it gets:
    const bare = await runCli(['connect', 'echo'], { ...getDefaultEnvironment(), HOME: home }, '/');
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('is not running');

    mkdirSync(join(home, '.cursor'));
    const added = await runCli(['clients', 'add', 'cursor', '--endpoint', 'echo'], shell, dir);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    expect(added.stderr).toContain(`OMNIMIND_RUNTIME_DIR=${join(xdg, 'omnimind')}`);
    const entry = JSON.parse(readFileSync(join(home, '.cursor', 'mcp.json'), 'utf8')).mcpServers['omnimind-echo'];
    expect(entry.env).toEqual({ OMNIMIND_RUNTIME_DIR: join(xdg, 'omnimind') });
    const client = await connectAsClient(entry);
    expect(await echo(client, 'echo', 'through the entry')).toBe('through the entry');
    await client.close();
  });

  it('says in one sentence that the supervisor is not running, and exits 1', async () => {
    const result = await runCli(['connect'], { ...getDefaultEnvironment(), HOME: home, NO_COLOR: '1' }, '/');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^omnimind: The omnimind supervisor is not running \(nothing listens in \/\S+\): start it with `omnimind start`\.\n$/,
    );
  });

  // The default endpoint is the `omnimind` profile (omnimind.sock), which serves every child with tools named
  // <child>__<tool>. This test needs the profile (src/gateway, built separately): until it is merged it fails with
  // `has no endpoint "omnimind"`, which is the point of keeping it here unskipped.
  it('connect with no endpoint reaches the omnimind profile (omnimind.sock) from the minimal environment', async () => {
    await start(shell);
    const client = await connectAsClient({ command: process.execPath, args: [CLI, 'connect'] });
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo__echo');
    expect(await echo(client, 'echo__echo', 'through the profile')).toBe('through the profile');
    await client.close();
  });
});

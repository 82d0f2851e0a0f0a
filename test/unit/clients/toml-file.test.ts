import { describe, expect, it } from 'vitest';
import { tomlFormat } from '../../../src/clients/toml-file.js';
import type { ServerEntry } from '../../../src/clients/types.js';

const FILE = '/home/me/.codex/config.toml';
const entry: ServerEntry = {
  command: '/usr/bin/node',
  args: ['/opt/omni "mind"/bin/omnimind.js', 'connect', 'omnimind'],
  env: { OMNIMIND_RUNTIME_DIR: '/tmp/run/omnimind' },
};
const TABLE =
  '[mcp_servers.omnimind]\ncommand = "/usr/bin/node"\nargs = ["/opt/omni \\"mind\\"/bin/omnimind.js", "connect", "omnimind"]\n' +
  'env = { OMNIMIND_RUNTIME_DIR = "/tmp/run/omnimind" }\n';

describe('Codex config.toml edits', () => {
  it('appends the table and removes it again, keeping every other byte', () => {
    const text = 'model = "o3"  # mine\n\n[mcp_servers.other]\ncommand = "x"\n\n[profiles.fast]\nmodel = "o4-mini"\n';
    const added = tomlFormat.setServer(text, FILE, 'omnimind', entry);
    expect(added).toBe(`${text}\n${TABLE}`);
    expect(tomlFormat.readServers(added, FILE).omnimind).toEqual({
      command: entry.command,
      args: entry.args,
      env: entry.env,
    });
    expect(tomlFormat.removeServer(added, FILE, 'omnimind')).toBe(text);
  });

  it('replaces the existing table and its sub-tables in place', () => {
    const head = '# top\nmodel = "o3"\n\n';
    const tail = '\n# about other\n[mcp_servers.other]\ncommand = "x"\n';
    const text = `${head}[mcp_servers.omnimind]\ncommand = "npx"\nstartup_timeout_sec = 20\n\n[mcp_servers.omnimind.env]\nA = "b"\n${tail}`;
    const replaced = tomlFormat.setServer(text, FILE, 'omnimind', entry);
    expect(replaced).toBe(`${head}${TABLE}${tail}`);
    expect(tomlFormat.removeServer(replaced, FILE, 'omnimind')).toBe(`${head.slice(0, -1)}${tail}`);
  });

  it('does not take a line inside a multi-line string for a table header', () => {
    const text = 'notes = """\n[mcp_servers.omnimind]\n"""\n';
    const added = tomlFormat.setServer(text, FILE, 'omnimind', entry);
    expect(added.startsWith(text)).toBe(true);
    expect(tomlFormat.readServers(added, FILE).omnimind).toBeDefined();
  });

  it('writes a new file and matches what it wrote', () => {
    const created = tomlFormat.setServer('', FILE, 'omnimind', { ...entry, env: {} });
    expect(created).toBe(
      '[mcp_servers.omnimind]\ncommand = "/usr/bin/node"\nargs = ["/opt/omni \\"mind\\"/bin/omnimind.js", "connect", "omnimind"]\n',
    );
    const stored = tomlFormat.readServers(created, FILE).omnimind;
    expect(tomlFormat.matches(stored, { ...entry, env: {} })).toBe(true);
    expect(tomlFormat.matches(stored, entry)).toBe(false);
  });

  it('refuses a malformed file, naming it and where the error is', () => {
    expect(() => tomlFormat.setServer('a = 1\n[mcp_servers.x\n', FILE, 'omnimind', entry)).toThrow(
      `${FILE} is not valid TOML (illegal character in key at line 2, column 15)`,
    );
    expect(() => tomlFormat.readServers('mcp_servers = 3\n', FILE)).toThrow('its "mcp_servers" is not a table');
  });

  it('refuses to edit an entry written with inline or dotted keys instead of half changing it', () => {
    const inline = 'mcp_servers = { omnimind = { command = "npx" } }\n';
    expect(() => tomlFormat.setServer(inline, FILE, 'omnimind', entry)).toThrow(
      `omnimind cannot edit ${FILE} without touching other content`,
    );
    const dotted = '[mcp_servers]\nomnimind.command = "npx"\n';
    expect(() => tomlFormat.removeServer(dotted, FILE, 'omnimind')).toThrow(
      'mcp_servers.omnimind is written in a form',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { jsonFormat } from '../../../src/clients/json-file.js';
import type { ServerEntry } from '../../../src/clients/types.js';

const format = jsonFormat('mcpServers', (e) => ({
  command: e.command,
  args: e.args,
  ...(Object.keys(e.env).length > 0 ? { env: e.env } : {}),
}));
const entry: ServerEntry = {
  command: '/usr/bin/node',
  args: ['/opt/omnimind/bin/omnimind.js', 'connect', 'omnimind'],
  env: {},
};
const FILE = '/home/me/.cursor/mcp.json';

/** `text` with the entry set, then removed again: in an existing servers object, that gives back the original bytes. */
function roundTrip(text: string): string {
  const added = format.setServer(text, FILE, 'omnimind', entry);
  expect(format.removeServer(added, FILE, 'omnimind')).toBe(text);
  return added;
}

describe('JSON config edits', () => {
  it('inserts after the last member with the indentation of the file (4 spaces), keeping every other byte', () => {
    const text = '{\n    "mcpServers": {\n        "other": {"command": "x"}\n    },\n    "keep": [1,2]\n}\n';
    expect(roundTrip(text)).toBe(
      '{\n    "mcpServers": {\n        "other": {"command": "x"},\n        "omnimind": {\n            "command": "/usr/bin/node",\n' +
        '            "args": [\n                "/opt/omnimind/bin/omnimind.js",\n                "connect",\n' +
        '                "omnimind"\n            ]\n        }\n    },\n    "keep": [1,2]\n}\n',
    );
  });

  it('uses tabs and CRLF when the file does', () => {
    const text = '{\r\n\t"theme": "dark"\r\n}';
    const added = format.setServer(text, FILE, 'omnimind', entry);
    expect(
      added.startsWith('{\r\n\t"theme": "dark",\r\n\t"mcpServers": {\r\n\t\t"omnimind": {\r\n\t\t\t"command"'),
    ).toBe(true);
    expect(added.endsWith('\r\n\t\t}\r\n\t}\r\n}')).toBe(true);
    expect(added.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('creates the servers object when the file has none, and fills an empty one in place', () => {
    const created = format.setServer('{\n  "a": 1\n}\n', FILE, 'omnimind', entry);
    expect(created).toContain('"a": 1,\n  "mcpServers": {\n    "omnimind": {\n      "command"');
    expect(format.removeServer(created, FILE, 'omnimind')).toBe('{\n  "a": 1,\n  "mcpServers": {}\n}\n');
    const empty = format.setServer('{\n  "mcpServers": {},\n  "b": true\n}\n', FILE, 'omnimind', entry);
    expect(empty.startsWith('{\n  "mcpServers": {\n    "omnimind": {\n')).toBe(true);
    expect(empty.endsWith('\n    }\n  },\n  "b": true\n}\n')).toBe(true);
    expect(format.removeServer(empty, FILE, 'omnimind')).toBe('{\n  "mcpServers": {},\n  "b": true\n}\n');
  });

  it('keeps comments and trailing commas of a JSONC file (VS Code)', () => {
    const text = '// my servers\n{\n  "mcpServers": {\n    "x": {}, // keep me\n  },\n  /* inputs */ "inputs": []\n}\n';
    const added = roundTrip(text);
    expect(added).toContain('"x": {}, // keep me\n    "omnimind": {');
    expect(added).toContain('/* inputs */ "inputs": []');
    expect(format.readServers(added, FILE)).toHaveProperty('x');
  });

  it('writes a one-line object inline, in its own spacing', () => {
    expect(roundTrip('{"mcpServers":{"x":{"command":"y"}}}')).toBe(
      `{"mcpServers":{"x":{"command":"y"},"omnimind":${JSON.stringify({ command: entry.command, args: entry.args })}}}`,
    );
  });

  it('replaces an existing entry in place and leaves its neighbours', () => {
    const text =
      '{\n  "mcpServers": {\n    "omnimind": {"command": "npx", "args": ["omnimind", "connect"]},\n    "z": {}\n  }\n}\n';
    const replaced = format.setServer(text, FILE, 'omnimind', entry);
    expect(replaced.startsWith('{\n  "mcpServers": {\n    "omnimind": {\n      "command": "/usr/bin/node",')).toBe(
      true,
    );
    expect(replaced.endsWith('      ]\n    },\n    "z": {}\n  }\n}\n')).toBe(true);
    expect(format.removeServer(replaced, FILE, 'omnimind')).toBe('{\n  "mcpServers": {\n    "z": {}\n  }\n}\n');
  });

  it('removes a first, middle or last member with its comma and line comment', () => {
    const text = '{\n  "mcpServers": {\n    "a": 1, // a\n    "omnimind": 2, // ours\n    "c": 3\n  }\n}\n';
    expect(format.removeServer(text, FILE, 'a')).toBe(
      '{\n  "mcpServers": {\n    "omnimind": 2, // ours\n    "c": 3\n  }\n}\n',
    );
    expect(format.removeServer(text, FILE, 'omnimind')).toBe(
      '{\n  "mcpServers": {\n    "a": 1, // a\n    "c": 3\n  }\n}\n',
    );
    expect(format.removeServer(text, FILE, 'c')).toBe(
      '{\n  "mcpServers": {\n    "a": 1, // a\n    "omnimind": 2 // ours\n  }\n}\n',
    );
  });

  it('writes a whole new document for an empty file', () => {
    expect(JSON.parse(format.setServer('', FILE, 'omnimind', entry))).toEqual({
      mcpServers: { omnimind: { command: entry.command, args: entry.args } },
    });
  });

  it('refuses a malformed file, naming it and where the error is', () => {
    expect(() => format.readServers('{\n  "a": 1,,\n}', FILE)).toThrow(
      `${FILE} is not valid JSON (PropertyNameExpected at line 2, column 10)`,
    );
    expect(() => format.setServer('[1, 2]', FILE, 'omnimind', entry)).toThrow('its top level is not an object');
    expect(() => format.setServer('{"mcpServers": []}', FILE, 'omnimind', entry)).toThrow(
      'its "mcpServers" is an array, not an object',
    );
  });

  it('matches a stored entry on what omnimind writes, ignoring keys the user added', () => {
    expect(format.matches({ command: entry.command, args: entry.args, disabled: false }, entry)).toBe(true);
    expect(format.matches({ command: entry.command, args: entry.args, env: {} }, entry)).toBe(true);
    expect(format.matches({ command: 'npx', args: entry.args }, entry)).toBe(false);
    expect(
      format.matches({ command: entry.command, args: entry.args }, { ...entry, env: { OMNIMIND_RUNTIME_DIR: '/r' } }),
    ).toBe(false);
  });
});

import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filesystemLimits } from '../../src/children/filesystem/index.js';
import { CLIENT_ROOTS_META_KEY } from '../../src/children/shared/client-roots.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { call, refused, requireBuilt, text, textOf } from '../helpers/stdio-child.js';

const CHILD = builtinChildEntry('filesystem');
const REFERENCE = resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

/** A 1x1 transparent PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const clients: Client[] = [];
const dirs: string[] = [];

function makeTempDir(label: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `omnimind-fs-${label}-`)));
  dirs.push(dir);
  return dir;
}

interface ClientOptions {
  /** Roots the client declares over MCP; the client then has the roots capability. */
  clientRoots?: () => string[];
}

async function connect(command: string[], env: Record<string, string>, options: ClientOptions = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: command,
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'ignore',
  });
  const roots = options.clientRoots;
  const client = new Client(
    { name: 'filesystem-test', version: '1.0.0' },
    roots ? { capabilities: { roots: { listChanged: true } } } : {},
  );
  if (roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots().map((dir) => ({ uri: `file://${dir}`, name: dir })),
    }));
  }
  await client.connect(transport);
  clients.push(client);
  return client;
}

function spawnOurs(roots: string[], options: ClientOptions = {}): Promise<Client> {
  return connect(
    [CHILD],
    { OMNIMIND_DATA_DIR: makeTempDir('data'), OMNIMIND_CHILD_CONFIG: JSON.stringify({ roots }) },
    options,
  );
}

function spawnReference(root: string): Promise<Client> {
  return connect([REFERENCE, root], {});
}

beforeAll(() => requireBuilt(CHILD));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A small project tree, the same wherever it is made. */
function makeProject(root: string): void {
  mkdirSync(join(root, 'src', 'lib'), { recursive: true });
  mkdirSync(join(root, 'docs'));
  mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(join(root, 'README.md'), '# Project\n\nSome words.\n');
  writeFileSync(join(root, 'notes.txt'), 'alpha\nbeta\ngamma\ndelta\nepsilon');
  writeFileSync(join(root, 'src', 'main.ts'), 'export function main() {\n  return 1;\n}\n');
  writeFileSync(join(root, 'src', 'lib', 'util.ts'), 'export const x = 1;\n');
  writeFileSync(join(root, 'docs', 'guide.md'), 'guide\n');
  writeFileSync(join(root, 'node_modules', 'pkg', 'index.js'), 'module.exports = 1;\n');
  writeFileSync(join(root, 'logo.png'), PNG);
}

describe('filesystem child: tools', () => {
  it('lists the reference server’s tools, in its order, with truthful annotations', async () => {
    const root = makeTempDir('root');
    const ours = await spawnOurs([root]);
    const reference = await spawnReference(root);
    const ourTools = (await ours.listTools()).tools;
    const referenceTools = (await reference.listTools()).tools;
    expect(ourTools.map((tool) => tool.name)).toEqual(referenceTools.map((tool) => tool.name));
    for (const tool of ourTools) {
      const twin = referenceTools.find((candidate) => candidate.name === tool.name)!;
      expect(Object.keys(tool.inputSchema.properties ?? {}).sort()).toEqual(
        Object.keys(twin.inputSchema.properties ?? {}).sort(),
      );
      expect(tool.annotations?.readOnlyHint).toBe(twin.annotations?.readOnlyHint);
      expect(tool.annotations?.openWorldHint).toBe(false);
    }
    const writers = ourTools.filter((tool) => !tool.annotations?.readOnlyHint).map((tool) => tool.name);
    expect(writers.sort()).toEqual(['create_directory', 'edit_file', 'move_file', 'write_file']);
  });

  it('reads text whole, by head and by tail, media as base64 and several files at once', async () => {
    const root = makeTempDir('root');
    makeProject(root);
    const client = await spawnOurs([root]);
    expect(await text(client, 'read_text_file', { path: join(root, 'notes.txt') })).toBe(
      'alpha\nbeta\ngamma\ndelta\nepsilon',
    );
    expect(await text(client, 'read_file', { path: 'notes.txt' })).toBe('alpha\nbeta\ngamma\ndelta\nepsilon');
    expect(await text(client, 'read_text_file', { path: 'notes.txt', head: 2 })).toBe('alpha\nbeta');
    expect(await text(client, 'read_text_file', { path: 'notes.txt', tail: 2 })).toBe('delta\nepsilon');
    // A final newline ends the last line: the last line is "}", not an empty string.
    expect(await text(client, 'read_text_file', { path: 'src/main.ts', tail: 1 })).toBe('}');
    expect(await text(client, 'read_text_file', { path: 'src/main.ts', head: 10 })).toBe(
      'export function main() {\n  return 1;\n}',
    );

    const media = await call(client, 'read_media_file', { path: join(root, 'logo.png') });
    expect(media.content[0]).toEqual({ type: 'image', data: PNG.toString('base64'), mimeType: 'image/png' });

    const many = await text(client, 'read_multiple_files', {
      paths: [join(root, 'docs', 'guide.md'), join(root, 'missing.txt')],
    });
    expect(many).toContain(`${join(root, 'docs', 'guide.md')}:\nguide\n\n`);
    expect(many).toMatch(/missing\.txt: Error - ENOENT/);
  });

  it('writes atomically, keeping the file mode, and edits with a diff (dry run leaves the file alone)', async () => {
    const root = makeTempDir('root');
    makeProject(root);
    const client = await spawnOurs([root]);
    const target = join(root, 'src', 'main.ts');
    chmodSync(target, 0o640);

    const preview = await text(client, 'edit_file', {
      path: target,
      edits: [{ oldText: 'return 1;', newText: 'return 2;' }],
      dryRun: true,
    });
    expect(preview).toContain('-  return 1;\n+  return 2;');
    expect(readFileSync(target, 'utf8')).toContain('return 1;');

    await text(client, 'edit_file', { path: target, edits: [{ oldText: 'return 1;', newText: 'return 3;' }] });
    expect(readFileSync(target, 'utf8')).toBe('export function main() {\n  return 3;\n}\n');
    expect(statSync(target).mode & 0o777).toBe(0o640);

    expect(await text(client, 'write_file', { path: target, content: 'replaced\n' })).toBe(
      `Successfully wrote to ${target}`,
    );
    expect(readFileSync(target, 'utf8')).toBe('replaced\n');
    expect(statSync(target).mode & 0o777).toBe(0o640);
    await text(client, 'write_file', { path: 'src/new.txt', content: 'fresh' });
    expect(readFileSync(join(root, 'src', 'new.txt'), 'utf8')).toBe('fresh');
    expect(readdirSync(join(root, 'src')).filter((name) => name.includes('omnimind'))).toEqual([]);

    const missing = await refused(client, 'edit_file', {
      path: target,
      edits: [{ oldText: 'not there', newText: 'x' }],
    });
    expect(missing).toContain('Could not find exact match');
  });

  it('creates, lists, moves, searches, describes and walks', async () => {
    const root = makeTempDir('root');
    makeProject(root);
    const client = await spawnOurs([root]);

    await text(client, 'create_directory', { path: 'out/deep/er' });
    expect(statSync(join(root, 'out', 'deep', 'er')).isDirectory()).toBe(true);

    const listing = (await text(client, 'list_directory', { path: root })).split('\n').sort();
    expect(listing).toEqual(
      [
        '[DIR] docs',
        '[DIR] node_modules',
        '[DIR] out',
        '[DIR] src',
        '[FILE] README.md',
        '[FILE] logo.png',
        '[FILE] notes.txt',
      ].sort(),
    );

    const sized = await text(client, 'list_directory_with_sizes', { path: 'src', sortBy: 'size' });
    const mainSize = statSync(join(root, 'src', 'main.ts')).size;
    expect(sized.split('\n').find((line) => line.includes('main.ts'))).toBe(
      `[FILE] ${'main.ts'.padEnd(30)} ${`${mainSize} B`.padStart(10)}`,
    );
    expect(sized).toContain('Total: 1 files, 1 directories');

    await text(client, 'move_file', { source: 'notes.txt', destination: 'docs/notes.txt' });
    expect(existsSync(join(root, 'docs', 'notes.txt'))).toBe(true);
    expect(await refused(client, 'move_file', { source: 'README.md', destination: 'docs/guide.md' })).toContain(
      'Destination already exists',
    );
    expect(readFileSync(join(root, 'docs', 'guide.md'), 'utf8')).toBe('guide\n');

    const found = (await text(client, 'search_files', { path: root, pattern: '**/*.md', excludePatterns: ['docs/**'] }))
      .split('\n')
      .sort();
    expect(found).toEqual([join(root, 'README.md')]);
    expect(await text(client, 'search_files', { path: root, pattern: '*.zip' })).toBe('No matches found');

    const info = await text(client, 'get_file_info', { path: 'README.md' });
    expect(info).toMatch(
      /^size: 23\ncreated: .+\nmodified: .+\naccessed: .+\nisDirectory: false\nisFile: true\npermissions: \d{3}$/,
    );

    const tree = JSON.parse(
      await text(client, 'directory_tree', { path: root, excludePatterns: ['node_modules', 'out'] }),
    ) as { name: string; type: string; children?: unknown[] }[];
    const names = tree.map((entry) => entry.name).sort();
    expect(names).toEqual(['README.md', 'docs', 'logo.png', 'src']);
    const src = tree.find((entry) => entry.name === 'src')!;
    expect(src.type).toBe('directory');
    expect(src.children).toEqual(expect.arrayContaining([{ name: 'main.ts', type: 'file' }]));

    expect(await text(client, 'list_allowed_directories')).toBe(`Allowed directories:\n${root}`);
  });

  it('answers bad arguments with tool errors and keeps serving', async () => {
    const root = makeTempDir('root');
    makeProject(root);
    const client = await spawnOurs([root]);
    expect(await refused(client, 'read_text_file', { path: 'notes.txt', head: 1, tail: 1 })).toContain(
      'Cannot specify both head and tail',
    );
    expect(await refused(client, 'read_text_file', { path: 'notes.txt', head: -3 })).toContain('Invalid head');
    expect(await refused(client, 'read_text_file', { path: 'notes.txt', tail: 1.5 })).toContain('Invalid tail');
    await refused(client, 'read_text_file', { path: 42 });
    await refused(client, 'list_directory_with_sizes', { path: '.', sortBy: 'colour' });
    await refused(client, 'read_text_file', {});
    expect(await refused(client, 'read_text_file', { path: 'src' })).toContain('is a directory');
    expect(await refused(client, 'edit_file', { path: 'notes.txt', edits: [{ oldText: '', newText: 'x' }] })).toContain(
      'non-empty oldText',
    );
    expect(await text(client, 'read_text_file', { path: 'notes.txt', head: 1 })).toBe('alpha');
  });

  it('caps reads, searches and trees, and says how to narrow them', async () => {
    const root = makeTempDir('root');
    const big = join(root, 'big.log');
    writeFileSync(big, `${'x'.repeat(99)}\n`.repeat(Math.ceil(filesystemLimits.MAX_READ_BYTES / 100) + 10));
    const many = join(root, 'many');
    mkdirSync(many);
    for (let i = 0; i <= filesystemLimits.MAX_TREE_ENTRIES; i++) writeFileSync(join(many, `f${i}.txt`), '');
    const client = await spawnOurs([root]);

    expect(await refused(client, 'read_text_file', { path: big })).toMatch(
      /read limit; read part of it with head or tail/,
    );
    expect(await refused(client, 'read_media_file', { path: big })).toMatch(/read limit/);
    expect(await text(client, 'read_text_file', { path: big, tail: 2 })).toBe(`${'x'.repeat(99)}\n${'x'.repeat(99)}`);

    const found = (await text(client, 'search_files', { path: many, pattern: '*.txt' })).split('\n');
    expect(found).toHaveLength(filesystemLimits.MAX_SEARCH_RESULTS + 1);
    expect(found.at(-1)).toMatch(/Search stopped after 1000 matches/);

    expect(await refused(client, 'directory_tree', { path: root })).toMatch(/more than 10000 entries/);
    const listing = (await text(client, 'list_directory', { path: many })).split('\n');
    expect(listing).toHaveLength(filesystemLimits.MAX_LIST_ENTRIES + 1);
    expect(listing.at(-1)).toBe('[1 more entries not shown; the listing stops at the first entries]');
  });
});

describe('filesystem child: containment', () => {
  /** A root with a secret next to it and links that point out of it. */
  function makeTrap() {
    const base = makeTempDir('trap');
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'top secret');
    writeFileSync(join(root, 'inside.txt'), 'fine');
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link'));
    symlinkSync(join(outside, 'planted.txt'), join(root, 'dangling'));
    symlinkSync(join(root, 'inside.txt'), join(root, 'inner-link'));
    return { root, outside };
  }

  it('refuses traversal, absolute paths outside the roots and NUL bytes', async () => {
    const { root, outside } = makeTrap();
    const client = await spawnOurs([root]);
    expect(await refused(client, 'read_text_file', { path: '../outside/secret.txt' })).toContain('Access denied');
    expect(await refused(client, 'read_text_file', { path: join(root, '..', 'outside', 'secret.txt') })).toContain(
      'Access denied',
    );
    expect(await refused(client, 'read_text_file', { path: join(outside, 'secret.txt') })).toContain('Access denied');
    expect(await refused(client, 'read_text_file', { path: '/etc/passwd' })).toContain('Access denied');
    expect(await refused(client, 'read_text_file', { path: 'inside.txt\0../../outside/secret.txt' })).toContain(
      'NUL byte',
    );
    expect(await refused(client, 'write_file', { path: '../outside/new.txt', content: 'x' })).toContain(
      'Access denied',
    );
    expect(await refused(client, 'create_directory', { path: join(outside, 'made') })).toContain('Access denied');
    expect(await refused(client, 'move_file', { source: 'inside.txt', destination: '../outside/moved.txt' })).toContain(
      'Access denied',
    );
    expect(await refused(client, 'list_directory', { path: '..' })).toContain('Access denied');
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(outside, 'made'))).toBe(false);
    expect(existsSync(join(outside, 'moved.txt'))).toBe(false);
    expect(existsSync(join(root, 'inside.txt'))).toBe(true);
  });

  it('refuses writes inside a .git directory, where they could make git run commands', async () => {
    const { root } = makeTrap();
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'config'), '[core]\n');
    const client = await spawnOurs([root]);
    const filter = '[filter "x"]\n  clean = touch /tmp/pwned\n';
    expect(await refused(client, 'write_file', { path: '.git/config', content: filter })).toContain('.git directory');
    expect(
      await refused(client, 'edit_file', { path: '.git/config', edits: [{ oldText: '[core]', newText: filter }] }),
    ).toContain('.git directory');
    expect(await refused(client, 'create_directory', { path: '.git/hooks' })).toContain('.git directory');
    expect(
      await refused(client, 'move_file', { source: 'inside.txt', destination: '.git/hooks-pre-commit' }),
    ).toContain('.git directory');
    expect(readFileSync(join(root, '.git', 'config'), 'utf8')).toBe('[core]\n');
    expect(await text(client, 'read_text_file', { path: '.git/config' })).toBe('[core]\n');
  });

  it('refuses symlinks that escape, for reads, writes and new files beneath them', async () => {
    const { root, outside } = makeTrap();
    const client = await spawnOurs([root]);
    expect(await refused(client, 'read_text_file', { path: 'secret-link' })).toContain('symlink target outside');
    expect(await refused(client, 'read_text_file', { path: 'escape/secret.txt' })).toContain('symlink target outside');
    expect(await refused(client, 'list_directory', { path: 'escape' })).toContain('symlink target outside');
    expect(await refused(client, 'write_file', { path: 'secret-link', content: 'pwned' })).toContain('Access denied');
    expect(await refused(client, 'write_file', { path: 'escape/new.txt', content: 'pwned' })).toContain(
      'Access denied',
    );
    expect(await refused(client, 'create_directory', { path: 'escape/sub/dir' })).toContain('Access denied');
    expect(await refused(client, 'write_file', { path: 'dangling', content: 'pwned' })).toContain('Access denied');
    expect(
      await refused(client, 'edit_file', { path: 'secret-link', edits: [{ oldText: 'top', newText: 'x' }] }),
    ).toContain('Access denied');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(outside, 'sub'))).toBe(false);
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);

    // A link that stays inside the roots is fine, and walks never follow links out.
    expect(await text(client, 'read_text_file', { path: 'inner-link' })).toBe('fine');
    const found = await text(client, 'search_files', { path: root, pattern: '**' });
    expect(found).not.toContain('secret');
    expect(found).toContain(join(root, 'inner-link'));
    const tree = await text(client, 'directory_tree', { path: root });
    expect(tree).not.toContain('secret.txt');
    // Sizes of escaping links are the links' own, never their targets'.
    const sized = await text(client, 'list_directory_with_sizes', { path: root });
    const secretLine = sized.split('\n').find((line) => line.includes('secret-link'));
    expect(secretLine).toBeDefined();
    expect(secretLine).not.toMatch(/ 10 B$/);
    expect(sized.split('\n').find((line) => line.includes('inner-link'))).toMatch(/ 4 B$/);
  });
});

/** Calls a tool as the gateway forwards a request of a client that declared `roots` (none: the key is absent). */
async function callAs(
  client: Client,
  roots: string[] | undefined,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  const _meta =
    roots === undefined ? undefined : { [CLIENT_ROOTS_META_KEY]: roots.map((dir) => pathToFileURL(dir).href) };
  return (await client.callTool({ name, arguments: args, _meta })) as CallToolResult;
}

describe('filesystem child: roots per request', () => {
  /** Configured roots `a` and `b`, each with a file, a directory outside them, and a link from `a` to outside. */
  function makeRoots() {
    const base = makeTempDir('roots');
    for (const dir of ['a', 'b', 'elsewhere']) mkdirSync(join(base, dir));
    writeFileSync(join(base, 'a', 'in-a.txt'), 'a');
    writeFileSync(join(base, 'b', 'in-b.txt'), 'b');
    writeFileSync(join(base, 'elsewhere', 'secret.txt'), 'secret');
    symlinkSync(join(base, 'elsewhere'), join(base, 'a', 'link-out'));
    const a = join(base, 'a');
    const b = join(base, 'b');
    return { base, a, b, elsewhere: join(base, 'elsewhere') };
  }

  it('confines each request on one connection to its own client roots, interleaved', async () => {
    const { a, b } = makeRoots();
    const client = await spawnOurs([a, b]);
    const rounds = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? Promise.all([
              callAs(client, [a], 'read_text_file', { path: join(a, 'in-a.txt') }),
              callAs(client, [a], 'read_text_file', { path: join(b, 'in-b.txt') }),
              callAs(client, [a], 'write_file', { path: join(b, `from-a-${i}.txt`), content: 'x' }),
            ])
          : Promise.all([
              callAs(client, [b], 'read_text_file', { path: join(b, 'in-b.txt') }),
              callAs(client, [b], 'read_text_file', { path: join(a, 'in-a.txt') }),
              callAs(client, [b], 'write_file', { path: join(a, `from-b-${i}.txt`), content: 'x' }),
            ]),
      ),
    );
    rounds.forEach(([own, other, write], i) => {
      expect(own.isError, textOf(own)).toBeFalsy();
      expect(textOf(own)).toBe(i % 2 === 0 ? 'a' : 'b');
      expect(other.isError).toBe(true);
      expect(textOf(other)).toContain('Access denied');
      expect(write.isError).toBe(true);
    });
    expect(readdirSync(a).sort()).toEqual(['in-a.txt', 'link-out']);
    expect(readdirSync(b)).toEqual(['in-b.txt']);
    // A client root deeper inside a configured root narrows further.
    mkdirSync(join(a, 'deep'));
    expect(textOf(await callAs(client, [join(a, 'deep')], 'list_allowed_directories'))).toBe(
      `Allowed directories:\n${join(a, 'deep')}`,
    );
    expect((await callAs(client, [join(a, 'deep')], 'read_text_file', { path: join(a, 'in-a.txt') })).isError).toBe(
      true,
    );
  });

  it('uses the configured roots without the key, and shows each request its own roots', async () => {
    const { base, a, b } = makeRoots();
    const client = await spawnOurs([a, b]);
    expect(textOf(await callAs(client, undefined, 'list_allowed_directories'))).toBe(
      `Allowed directories:\n${a}\n${b}`,
    );
    expect(textOf(await callAs(client, undefined, 'read_text_file', { path: join(b, 'in-b.txt') }))).toBe('b');
    expect(textOf(await callAs(client, [b], 'list_allowed_directories'))).toBe(`Allowed directories:\n${b}`);
    // A client root above the configured ones counts as the configured roots it holds.
    expect(textOf(await callAs(client, [base], 'list_allowed_directories'))).toBe(`Allowed directories:\n${a}\n${b}`);
    expect(textOf(await callAs(client, [b, join(base, 'elsewhere')], 'list_allowed_directories'))).toBe(
      `Allowed directories:\n${b}`,
    );
  });

  it('refuses client roots outside the configured ones, and symlinked roots that point outside', async () => {
    const { a, b, elsewhere } = makeRoots();
    const client = await spawnOurs([a, b]);
    const outside = await callAs(client, [elsewhere], 'read_text_file', { path: join(elsewhere, 'secret.txt') });
    expect(outside.isError).toBe(true);
    expect(textOf(outside)).toContain(`none of the client's roots (${pathToFileURL(elsewhere).href})`);
    const listed = await callAs(client, [elsewhere], 'list_allowed_directories');
    expect(listed.isError).toBe(true);
    // Nothing left is never a fallback to the configured roots.
    expect((await callAs(client, [elsewhere], 'read_text_file', { path: join(a, 'in-a.txt') })).isError).toBe(true);
    const linked = await callAs(client, [join(a, 'link-out')], 'read_text_file', {
      path: join(a, 'link-out', 'secret.txt'),
    });
    expect(linked.isError).toBe(true);
    expect(textOf(linked)).toContain('Access denied');
    expect((await callAs(client, [join(a, 'link-out')], 'list_directory', { path: elsewhere })).isError).toBe(true);
    // Roots that are not file URIs, or not absolute, count for nothing.
    const odd = await client.callTool({
      name: 'read_text_file',
      arguments: { path: join(a, 'in-a.txt') },
      _meta: { [CLIENT_ROOTS_META_KEY]: ['https://example.com/a', 'a', 42] },
    });
    expect(odd.isError).toBe(true);
    expect(readFileSync(join(elsewhere, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('never asks the client for roots, even when it declares the roots capability', async () => {
    const { a } = makeRoots();
    let asked = 0;
    const client = await spawnOurs([a], {
      clientRoots: () => {
        asked++;
        return [a];
      },
    });
    await client.sendRootsListChanged();
    expect(await text(client, 'read_text_file', { path: join(a, 'in-a.txt') })).toBe('a');
    await client.sendRootsListChanged();
    expect(await text(client, 'list_allowed_directories')).toBe(`Allowed directories:\n${a}`);
    expect(asked).toBe(0);
  });
});

describe('filesystem child: races and hostile patterns', () => {
  /** How long the swap race runs (ms). */
  const RACE_MS = 5_000;
  /** How long the swapped name stays a directory, or a link, before it changes again (ms). */
  const SWAP_HOLD_MS = 0.5;

  /**
   * Swaps `root/swap` between a real directory and a link to `outside`, as fast as it can, for `ms`, in a process
   * of its own (so it runs while the child serves the test's calls).
   */
  function startSwapper(root: string, outside: string, ms: number) {
    const script = `
      const { lstatSync, renameSync, rmSync, symlinkSync } = require('node:fs');
      const [root, outside, ms, holdMs] = process.argv.slice(1);
      const swap = root + '/swap';
      symlinkSync(outside, root + '/parked-link');
      const deadline = Date.now() + Number(ms);
      let swaps = 0;
      while (Date.now() < deadline) {
        for (const parked of [root + '/parked-dir', root + '/parked-link']) {
          // create_directory may have made a directory of its own at swap: clear it (it is inside the root).
          try { lstatSync(swap); rmSync(swap, { recursive: true, force: true }); } catch {}
          try {
            renameSync(parked, swap);
            // Hold each state a moment, so calls also meet a steady directory or link, not only a transition.
            const until = performance.now() + Number(holdMs);
            while (performance.now() < until);
            renameSync(swap, parked);
            swaps++;
          } catch {}
        }
      }
      console.log(swaps);
    `;
    const child = spawn(process.execPath, ['-e', script, root, outside, String(ms), String(SWAP_HOLD_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    return new Promise<number>((resolvePromise) => child.on('exit', () => resolvePromise(Number(output.trim()))));
  }

  it('never reads, writes, creates or moves outside the roots while a directory and an escaping link swap', async () => {
    const base = makeTempDir('race');
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(join(root, 'parked-dir'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'parked-dir', 'file.txt'), 'INSIDE');
    writeFileSync(join(outside, 'file.txt'), 'OUTSIDE');
    writeFileSync(join(outside, 'outside-only.txt'), '');
    const client = await spawnOurs([root]);
    const swapping = startSwapper(root, outside, RACE_MS);
    const deadline = Date.now() + RACE_MS - 200;
    const tally = { reads: 0, insideReads: 0, escapedReads: 0, escapedListings: 0, calls: 0 };
    const worker = async (id: number) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const name = `w${id}-${n}`;
        const [read, listing] = await Promise.all([
          call(client, 'read_text_file', { path: join(root, 'swap', 'file.txt') }),
          call(client, 'list_directory', { path: join(root, 'swap') }),
          call(client, 'write_file', { path: join(root, 'swap', `${name}.txt`), content: 'written' }),
          call(client, 'create_directory', { path: join(root, 'swap', `${name}-dir`, 'sub') }),
          call(client, 'write_file', { path: join(root, `${name}-moving.txt`), content: 'moving' }).then(() =>
            call(client, 'move_file', {
              source: join(root, `${name}-moving.txt`),
              destination: join(root, 'swap', `${name}-moved.txt`),
            }),
          ),
        ]);
        tally.calls += 5;
        tally.reads++;
        if (textOf(read) === 'OUTSIDE') tally.escapedReads++;
        if (textOf(read) === 'INSIDE') tally.insideReads++;
        if (textOf(listing).includes('outside-only.txt')) tally.escapedListings++;
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    const swaps = await swapping;
    expect(swaps).toBeGreaterThan(100);
    // The race ran: some reads got the inside file while others were refused.
    expect(tally.insideReads).toBeGreaterThan(0);
    expect(tally.insideReads).toBeLessThan(tally.reads);
    expect(tally.escapedReads).toBe(0);
    expect(tally.escapedListings).toBe(0);
    expect(readdirSync(outside).sort()).toEqual(['file.txt', 'outside-only.txt']);
    expect(readFileSync(join(outside, 'file.txt'), 'utf8')).toBe('OUTSIDE');
    expect(await text(client, 'list_allowed_directories')).toBe(`Allowed directories:\n${root}`);
  }, 60_000);

  it('answers hostile search patterns quickly and keeps serving', async () => {
    const root = makeTempDir('patterns');
    let deep = root;
    for (let i = 0; i < 25; i++) {
      deep = join(deep, 'a');
      mkdirSync(deep);
    }
    for (const name of ['a'.repeat(200), `${'a'.repeat(199)}c`, 'ab'.repeat(100), 'aaaa.txt']) {
      writeFileSync(join(root, name), '');
    }
    const client = await spawnOurs([root]);
    const patterns = [
      `${'*a'.repeat(60)}*b`,
      `**/${'*a'.repeat(40)}*b`,
      `${'**/'.repeat(60)}b`,
      `${'+(a|aa)'.repeat(40)}b`,
      `${'*(a|aa)'.repeat(40)}b`,
      '*(*(*(*(*(*(*(*(*(*(a))))))))))b',
      `!(${'*a'.repeat(60)}*b)`,
      `@(${'a*'.repeat(60)}|${'*a'.repeat(60)})b`,
      `${'[a-z]*'.repeat(60)}b`,
      `${'?'.repeat(150)}*b`,
    ];
    for (const pattern of patterns) {
      const started = performance.now();
      const result = await call(client, 'search_files', { path: root, pattern });
      expect(performance.now() - started, pattern).toBeLessThan(5_000);
      expect(result.isError, textOf(result)).toBeFalsy();
    }
    const found = await text(client, 'search_files', { path: root, pattern: `${'*a'.repeat(100)}*` });
    expect(found.split('\n').sort()).toEqual(
      [join(root, 'a'.repeat(200)), join(root, `${'a'.repeat(199)}c`), join(root, 'ab'.repeat(100))].sort(),
    );
    const tooLong = await refused(client, 'search_files', {
      path: root,
      pattern: '*'.repeat(filesystemLimits.MAX_GLOB_PATTERN_CHARS + 1),
    });
    expect(tooLong).toContain('over the 1000-character limit');
    expect(await text(client, 'list_allowed_directories')).toBe(`Allowed directories:\n${root}`);
  }, 120_000);
});

describe('filesystem child: the same answers as the reference server', () => {
  /** Steps of a session; `{root}` stands for the server's root. `normalize` masks what differs by nature. */
  const SCRIPT: { tool: string; args: Record<string, unknown>; normalize?: (text: string) => string }[] = [
    { tool: 'list_allowed_directories', args: {} },
    { tool: 'read_text_file', args: { path: '{root}/notes.txt' } },
    { tool: 'read_text_file', args: { path: 'notes.txt', head: 3 } },
    { tool: 'read_text_file', args: { path: '{root}/notes.txt', tail: 2 } },
    { tool: 'read_file', args: { path: '{root}/README.md' } },
    { tool: 'read_media_file', args: { path: '{root}/logo.png' } },
    { tool: 'read_multiple_files', args: { paths: ['{root}/README.md', '{root}/src/main.ts', '{root}/nope.txt'] } },
    { tool: 'write_file', args: { path: '{root}/docs/new.md', content: 'line one\nline two\n' } },
    { tool: 'write_file', args: { path: '{root}/README.md', content: '# Renamed\n\nSome words.\nMore.\n' } },
    {
      tool: 'edit_file',
      args: {
        path: '{root}/src/main.ts',
        edits: [{ oldText: 'return 1;', newText: 'const y = 2;\n  return y;' }],
        dryRun: true,
      },
    },
    {
      tool: 'edit_file',
      args: {
        path: '{root}/src/main.ts',
        edits: [
          { oldText: 'export function main() {', newText: 'export function start() {' },
          { oldText: '    return 1;', newText: 'return 42;' },
        ],
      },
    },
    { tool: 'read_text_file', args: { path: '{root}/src/main.ts' } },
    { tool: 'create_directory', args: { path: '{root}/build/out' } },
    { tool: 'list_directory_with_sizes', args: { path: '{root}' } },
    { tool: 'list_directory_with_sizes', args: { path: '{root}/src', sortBy: 'size' } },
    { tool: 'list_directory', args: { path: '{root}/src' } },
    { tool: 'directory_tree', args: { path: '{root}/src' } },
    { tool: 'directory_tree', args: { path: '{root}', excludePatterns: ['node_modules', '*.png', 'build'] } },
    { tool: 'move_file', args: { source: '{root}/docs/new.md', destination: '{root}/build/new.md' } },
    { tool: 'move_file', args: { source: '{root}/README.md', destination: '{root}/docs/guide.md' } },
    { tool: 'search_files', args: { path: '{root}', pattern: '**/*.md' } },
    { tool: 'search_files', args: { path: '{root}', pattern: '**/*.{ts,js}', excludePatterns: ['node_modules/**'] } },
    { tool: 'search_files', args: { path: '{root}/src', pattern: '*.ts' } },
    { tool: 'search_files', args: { path: '{root}', pattern: '*.zip' } },
    {
      tool: 'get_file_info',
      args: { path: '{root}/docs/guide.md' },
      normalize: (text) => text.replace(/^(created|modified|accessed): .*$/gm, '$1: <time>'),
    },
    { tool: 'read_text_file', args: { path: '{root}/../escape.txt' } },
    { tool: 'read_text_file', args: { path: '/etc/hostname' } },
    { tool: 'read_text_file', args: { path: '{root}/notes.txt', head: 1, tail: 1 } },
  ];

  async function runScript(client: Client, root: string): Promise<unknown[]> {
    const transcript: unknown[] = [];
    const fill = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replaceAll('{root}', root)
        : Array.isArray(value)
          ? value.map(fill)
          : value !== null && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner)]))
            : value;
    const mask = (value: string) => value.replaceAll(root, '{root}').replaceAll(dirname(root), '{base}');
    for (const step of SCRIPT) {
      const result = await call(client, step.tool, fill(step.args) as Record<string, unknown>);
      const content = result.content.map((block) =>
        block.type === 'text' ? { ...block, text: (step.normalize ?? String)(mask(block.text)) } : block,
      );
      transcript.push({ step: `${step.tool} ${JSON.stringify(step.args)}`, isError: result.isError ?? false, content });
    }
    return transcript;
  }

  it('runs one scripted session against both and gets the same transcript', async () => {
    const ourRoot = join(makeTempDir('ours'), 'project');
    const referenceRoot = join(makeTempDir('reference'), 'project');
    for (const root of [ourRoot, referenceRoot]) {
      mkdirSync(root);
      makeProject(root);
    }
    const ours = await runScript(await spawnOurs([ourRoot]), ourRoot);
    const reference = await runScript(await spawnReference(referenceRoot), referenceRoot);
    expect(ours).toEqual(reference);
    expect(readFileSync(join(ourRoot, 'src', 'main.ts'), 'utf8')).toBe(
      readFileSync(join(referenceRoot, 'src', 'main.ts'), 'utf8'),
    );
    expect(readdirSync(ourRoot).sort()).toEqual(readdirSync(referenceRoot).sort());
  });
});

import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_CHILDREN, BUILTIN_NODE_FLAGS, builtinChildEntry } from '../../src/config/index.js';
import { createHarness, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';
import { StdioChildKit } from '../helpers/stdio-child.js';

const harnesses: Harness[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('built-in children footprint', () => {
  it('builds each built-in into one file that needs nothing beside it but better-sqlite3', async () => {
    // Each bundle is copied where only better-sqlite3 (and what it loads) can be found, and must still serve.
    const dir = mkdtempSync(join(tmpdir(), 'om-bundle-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'node_modules'));
    // Children name their version from the package's package.json.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'omnimind', version: '0.0.0' }));
    for (const module of ['better-sqlite3', 'bindings', 'file-uri-to-path']) {
      symlinkSync(join(ROOT, 'node_modules', module), join(dir, 'node_modules', module));
    }
    for (const name of BUILTIN_CHILDREN) {
      expect(builtinChildEntry(name)).toBe(join(ROOT, 'dist', 'src', 'children', name, 'main.cjs'));
      const own = join(dir, name);
      mkdirSync(own);
      for (const file of ['main.cjs', 'bundle.cjs']) {
        copyFileSync(join(ROOT, 'dist', 'src', 'children', name, file), join(own, file));
      }
      const kit = new StdioChildKit(`om-bundle-${name}`, {
        OMNIMIND_HOME: join(own, 'home'),
        OMNIMIND_DATA_DIR: join(own, 'data'),
        OMNIMIND_CHILD_CONFIG: JSON.stringify(name === 'sqlite' ? {} : { roots: [own], repositories: [own] }),
      });
      cleanups.push(() => kit.cleanup());
      const { client } = await kit.spawn(join(own, 'main.cjs'), {});
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    }
  });

  it('runs each built-in with its V8 flags, and lite mode prints no warning into the log', async () => {
    const h = createHarness({ children: { ...NO_BUILTINS, thinking: {}, memory: {} } });
    harnesses.push(h);
    expect((await h.cli(['start'])).code).toBe(0);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      children: Array<{ name: 'thinking' | 'memory'; pid: number; logFile: string }>;
    };
    expect(BUILTIN_NODE_FLAGS.thinking).toContain('--lite-mode');
    expect(BUILTIN_NODE_FLAGS.memory).toEqual([]);
    for (const child of status.children) {
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(1, -2)).toEqual([...BUILTIN_NODE_FLAGS[child.name]]);
    }
    const thinking = status.children.find((c) => c.name === 'thinking')!;
    // The child writes nothing to stderr, so its log may not even exist.
    const log = existsSync(thinking.logFile) ? readFileSync(thinking.logFile, 'utf8') : '';
    expect(log).not.toContain('Warning');
  });

  it('starts a built-in from its code cache, and replaces a cache that is corrupt or from another build', async () => {
    const h = createHarness({ children: { ...NO_BUILTINS, memory: {} } });
    harnesses.push(h);
    const cacheDir = join(h.home, 'code-cache');
    const call = async () => {
      const client = await h.client('memory');
      const result = await client.callTool({ name: 'read_graph', arguments: {} });
      expect(result.isError).toBeFalsy();
      await client.close();
    };
    mkdirSync(cacheDir, { mode: 0o700 });
    // A cache left by an earlier build of this child is removed once this build writes its own.
    writeFileSync(join(cacheDir, 'memory-0000000000000000-v20.0.0-x64.bin'), 'stale');
    expect((await h.cli(['start'])).code).toBe(0);
    await call();
    const name = await waitFor(() => {
      const files = readdirSync(cacheDir).filter((f) => f.endsWith('.bin'));
      return files.length === 1 && !files[0]!.startsWith('memory-0000') ? files[0] : undefined;
    });
    expect(name).toMatch(new RegExp(`^memory-[0-9a-f]{16}-${process.version}-${process.arch}\\.bin$`));
    const written = readFileSync(join(cacheDir, name!));
    expect(written.length).toBeGreaterThan(100_000);

    // A corrupt cache is rejected by V8: the child starts all the same and writes a good one.
    const corrupt = Buffer.alloc(written.length, 0x5a);
    writeFileSync(join(cacheDir, name!), corrupt);
    expect((await h.cli(['restart', 'memory'])).code).toBe(0);
    await call();
    await waitFor(() => !readFileSync(join(cacheDir, name!)).equals(corrupt));
    expect(readFileSync(join(cacheDir, name!)).length).toBeGreaterThan(100_000);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.bin'))).toEqual([name]);
  });
});

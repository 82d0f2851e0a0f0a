import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_CHILDREN, BUILTIN_NODE_FLAGS } from '../../src/config/index.js';
import { createHarness, type Harness, NO_BUILTINS, ROOT } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

describe('built-in children footprint', () => {
  it('builds each built-in into one file that imports only Node builtins and better-sqlite3', () => {
    for (const name of BUILTIN_CHILDREN) {
      const main = readFileSync(join(ROOT, 'dist', 'src', 'children', name, 'main.js'), 'utf8');
      const statics = main.matchAll(/(?:^|[;\s}])import\s*(?:[\w$*{},\s]+?from\s*)?["']([^"']+)["']/g);
      const dynamics = main.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g);
      const imported = [...statics, ...dynamics].map((m) => m[1]!);
      expect(imported.filter((s) => !s.startsWith('node:') && s !== 'better-sqlite3')).toEqual([]);
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
});

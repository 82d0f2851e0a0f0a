import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OmnimindPaths } from './paths.js';
import { BUILTIN_CHILDREN, type BuiltinChildName, type RawConfig } from './schema.js';

/** How long a child may take to answer `initialize` before the start counts as failed. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
/** How long a stop may take: SIGTERM to the group at half of it, SIGKILL at the end. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/**
 * V8 flags of each built-in child (BENCHMARKS.md, supervisor section, has the measurements). The children whose work
 * happens in another process (git, python, sqlite's query processes) or is bookkeeping (thinking) run without V8's
 * compilers (`--lite-mode`): about 5 MB less resident each and no measurable cost per call. memory, context and
 * filesystem do their work in JavaScript (graph search, compression, globbing, diffs) and keep the optimizing
 * compiler. `--lite-mode` turns WebAssembly off and says so on stderr unless `--no-expose-wasm` is given too.
 */
export const BUILTIN_NODE_FLAGS: Readonly<Record<BuiltinChildName, readonly string[]>> = {
  memory: [],
  context: [],
  thinking: ['--lite-mode', '--no-expose-wasm'],
  python: ['--lite-mode', '--no-expose-wasm'],
  filesystem: [],
  git: ['--lite-mode', '--no-expose-wasm'],
  sqlite: ['--lite-mode', '--no-expose-wasm'],
};

/** Everything the supervisor needs to run one child. */
export interface ChildSpec {
  name: string;
  /** Built-in children are trusted: the cache believes their tool annotations. */
  builtin: boolean;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  enabled: boolean;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  /** The child's config section as written (cache, compress, limits, priorities and child options). */
  options: Record<string, unknown>;
}

/**
 * The file a built-in child runs from, in the compiled program beside this module (or in dist/ when run from source):
 * the bundle's starter main.cjs, or main.js as tsc wrote it when the build had no bundler.
 */
export function builtinChildEntry(name: BuiltinChildName): string {
  const here = fileURLToPath(import.meta.url);
  const srcRoot = resolve(dirname(here), '..');
  const compiled = here.endsWith('.ts') ? resolve(srcRoot, '..', 'dist', 'src') : srcRoot;
  const bundled = join(compiled, 'children', name, 'main.cjs');
  return existsSync(bundled) ? bundled : join(compiled, 'children', name, 'main.js');
}

function builtinDefaults(name: BuiltinChildName, paths: OmnimindPaths, cwd: string): Record<string, unknown> {
  switch (name) {
    case 'filesystem':
      return { roots: [cwd] };
    case 'git':
      return { repositories: [cwd] };
    case 'sqlite':
      return { database: join(paths.dataDir, 'sqlite.db'), readOnly: false };
    case 'python':
      return { timeoutMs: 10_000, memoryMb: 512 };
    default:
      return {};
  }
}

function absolutePaths(options: Record<string, unknown>, cwd: string): Record<string, unknown> {
  const out = { ...options };
  for (const key of ['roots', 'repositories'] as const) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((p: string) => resolve(cwd, p));
  }
  if (typeof out.database === 'string') out.database = resolve(cwd, out.database);
  return out;
}

/**
 * Turns the config into the list of children to run: the seven built-ins, then every `mcpServers` entry. A built-in
 * replaced by an `mcpServers` entry of its name (allowed only once it is disabled) is left out: names stay unique.
 */
export function resolveChildSpecs(config: RawConfig, paths: OmnimindPaths, cwd: string): ChildSpec[] {
  const specs: ChildSpec[] = [];
  for (const name of BUILTIN_CHILDREN) {
    if (config.mcpServers?.[name] !== undefined) continue;
    const section = (config.children?.[name] ?? {}) as Record<string, unknown>;
    const options = absolutePaths({ ...builtinDefaults(name, paths, cwd), ...section }, cwd);
    specs.push({
      name,
      builtin: true,
      command: process.execPath,
      args: [...BUILTIN_NODE_FLAGS[name], builtinChildEntry(name)],
      env: {
        ...((section.env as Record<string, string> | undefined) ?? {}),
        OMNIMIND_HOME: paths.home,
        OMNIMIND_DATA_DIR: paths.dataDir,
        OMNIMIND_CHILD_NAME: name,
        OMNIMIND_CHILD_CONFIG: JSON.stringify(options),
      },
      cwd,
      enabled: section.enabled !== false,
      startTimeoutMs: (section.startTimeoutMs as number | undefined) ?? DEFAULT_START_TIMEOUT_MS,
      stopTimeoutMs: (section.stopTimeoutMs as number | undefined) ?? DEFAULT_STOP_TIMEOUT_MS,
      options,
    });
  }
  for (const [name, server] of Object.entries(config.mcpServers ?? {})) {
    specs.push({
      name,
      builtin: false,
      command: server.command,
      args: server.args ?? [],
      env: server.env ?? {},
      cwd: server.cwd ? resolve(cwd, server.cwd) : cwd,
      enabled: server.enabled !== false,
      startTimeoutMs: server.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      stopTimeoutMs: server.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      options: server as Record<string, unknown>,
    });
  }
  return specs;
}

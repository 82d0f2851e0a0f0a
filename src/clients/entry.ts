import { accessSync, constants, realpathSync } from 'node:fs';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { packageRoot, resolvePaths } from '../config/index.js';
import type { ServerEntry } from './types.js';

/** The endpoint `connect` reaches when none is named: the profile serving every child (CONTRACT.md). */
export const DEFAULT_ENDPOINT = 'omnimind';

/**
 * The only variables an MCP client passes a stdio server on Linux and macOS besides those its entry sets: the MCP
 * SDK's `getDefaultEnvironment()` (DEFAULT_INHERITED_ENV_VARS in @modelcontextprotocol/sdk/client/stdio).
 */
export const MINIMAL_ENV_VARS = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'] as const;

/** Where an entry's paths come from; each defaults to this process and this installation. */
export interface EntryOptions {
  /** The environment of the shell that runs (or ran) `omnimind start`. */
  env: NodeJS.ProcessEnv;
  /** This installation's bin/omnimind.js. */
  cliPath?: string;
  /** The node binary. */
  nodePath?: string;
}

/** The entry's name in a client's config: `omnimind` for the default endpoint, `omnimind-<endpoint>` otherwise. */
export function entryName(endpoint: string): string {
  return endpoint === DEFAULT_ENDPOINT ? DEFAULT_ENDPOINT : `${DEFAULT_ENDPOINT}-${endpoint}`;
}

/** The first `name` on PATH that is `target` (through any symlinks), as PATH spells it. */
function findOnPath(name: string, path: string | undefined, target: string): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (realpathSync(candidate) === target) return candidate;
    } catch {}
  }
  return undefined;
}

/**
 * The variables the entry must carry so that `connect`, started with only {@link MINIMAL_ENV_VARS} and from any
 * directory, finds the runtime directory this environment finds: none when both agree (the usual case,
 * `/run/user/<uid>` or the state directory), else OMNIMIND_RUNTIME_DIR as an absolute path. `connect` needs nothing
 * else (it reads no state and no config), so OMNIMIND_HOME is never needed.
 */
export function entryEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const minimal: NodeJS.ProcessEnv = {};
  for (const key of MINIMAL_ENV_VARS) if (env[key] !== undefined) minimal[key] = env[key];
  const runtimeDir = resolvePaths(env).runtimeDir;
  return resolvePaths(minimal).runtimeDir === runtimeDir ? {} : { OMNIMIND_RUNTIME_DIR: runtimeDir };
}

/**
 * The command an MCP client runs for `endpoint`: the `omnimind` on PATH when that is this installation (a global
 * install), else the absolute node binary with this installation's bin/omnimind.js; never a relative path or npx.
 */
export function buildServerEntry(endpoint: string, options: EntryOptions): ServerEntry {
  const cli = options.cliPath ?? realpathSync(join(packageRoot(), 'bin', 'omnimind.js'));
  const global = findOnPath('omnimind', options.env.PATH, cli);
  const env = entryEnvironment(options.env);
  return global === undefined
    ? { command: options.nodePath ?? process.execPath, args: [cli, 'connect', endpoint], env }
    : { command: global, args: ['connect', endpoint], env };
}

/** The endpoint a stored entry connects to, when it runs `omnimind connect` (any spelling of it); else undefined. */
export function connectedEndpoint(stored: unknown): string | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const { command, args } = stored as { command?: unknown; args?: unknown };
  if (typeof command !== 'string' || !Array.isArray(args)) return undefined;
  const words = args.filter((a): a is string => typeof a === 'string');
  const at = words.indexOf('connect');
  if (at < 0 || ![command, ...words.slice(0, at)].some((w) => /^omnimind(\.js)?$/.test(basename(w)))) return undefined;
  return words.slice(at + 1).find((w) => !w.startsWith('-')) ?? DEFAULT_ENDPOINT;
}

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringifyCanonical } from '../cache/index.js';
import type { ChildSpec } from '../config/index.js';

/** Built-in children that confine each request to the roots of the client that sent it. */
const ROOT_HONOURING_BUILTINS = new Set(['filesystem', 'git']);

/** A digest of everything that configures a child: a different one means its earlier answers no longer hold. */
export function childIdentity(spec: ChildSpec): string {
  const { command, args, env, cwd, options } = spec;
  return createHash('sha1').update(stringifyCanonical({ command, args, env, cwd, options })).digest('base64');
}

/**
 * What makes copies of an external child on different hosts the same server, for one marked `"cache": {"shared":
 * true}`: its command, args, configured env and cache options (not its working directory, which differs per host).
 * Undefined for a child whose answers are never shared: a built-in one, or one not marked.
 */
export function sharedIdentity(spec: ChildSpec): string | undefined {
  const cache = (spec.options as { cache?: { shared?: unknown } }).cache;
  if (spec.builtin || cache?.shared !== true) return undefined;
  const { command, args, env } = spec;
  return createHash('sha1').update(stringifyCanonical({ command, args, env, cache })).digest('base64url');
}

/** Whether the child reads each client's roots from the request (so cached answers are keyed by them). */
export function honoursClientRoots(spec: ChildSpec): boolean {
  return spec.builtin && ROOT_HONOURING_BUILTINS.has(spec.name);
}

/**
 * The child's configured roots as file:// URIs: its `roots` (or git's `repositories`), else its working directory;
 * relative paths are taken from that directory.
 */
export function configuredRootUris(spec: ChildSpec): string[] {
  const { roots, repositories } = spec.options as { roots?: unknown; repositories?: unknown };
  const list = Array.isArray(roots) ? roots : Array.isArray(repositories) ? repositories : [spec.cwd];
  return list
    .filter((path): path is string => typeof path === 'string')
    .map((path) => pathToFileURL(resolve(spec.cwd, path)).href);
}

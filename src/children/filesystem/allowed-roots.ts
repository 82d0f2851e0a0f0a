import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ROOTS_META_KEY } from '../shared/client-roots.js';

/** Expands a leading `~` to the home directory, as the reference server does. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** True when `path` is `root` or lies below it; both absolute and normalized. */
export function isWithin(path: string, root: string): boolean {
  if (path === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path.startsWith(prefix);
}

/** True when `path` lies inside any of `roots`. */
export function isWithinAny(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => isWithin(path, root));
}

function trimTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path;
}

/** A configured root as written (normalized) and by real path; the two differ when the root is reached by a link. */
interface ConfiguredRoot {
  written: string;
  real: string;
}

/**
 * The directories tools may touch. Configured roots are kept both as written and by real path (so `/tmp` and
 * `/private/tmp` both match). A request that carries its client's roots (`_meta["omnimind/roots"]`, set by the
 * gateway) is confined to their intersection with the configured roots, resolved afresh for that request only:
 * one client's roots never change what another client's request may reach.
 */
export class AllowedRoots {
  #configured: ConfiguredRoot[] = [];

  /** The configured roots, as written and by real path. */
  get configured(): readonly string[] {
    const all: string[] = [];
    for (const { written, real } of this.#configured) {
      for (const candidate of [written, real]) if (!all.includes(candidate)) all.push(candidate);
    }
    return all;
  }

  /** Sets the configured roots: absolute directories; missing or non-directory ones are skipped with a warning. */
  async configure(roots: readonly string[], warn: (message: string) => void): Promise<void> {
    const accepted: ConfiguredRoot[] = [];
    for (const root of roots) {
      if (typeof root !== 'string' || root.includes('\0') || !isAbsolute(expandHome(root))) {
        warn(`Ignoring root ${JSON.stringify(root)}: roots must be absolute paths`);
        continue;
      }
      const written = trimTrailingSlash(normalize(resolve(expandHome(root))));
      try {
        const real = await realpath(written);
        if (!(await stat(real)).isDirectory()) {
          warn(`Ignoring root ${written}: not a directory`);
          continue;
        }
        if (!accepted.some((known) => known.written === written)) accepted.push({ written, real });
      } catch {
        warn(`Ignoring root ${written}: it does not exist or cannot be read`);
      }
    }
    this.#configured = accepted;
  }

  /**
   * The roots one request may reach, from its `_meta`: without the client-roots key, the configured roots; with
   * it, each client root (by real path) inside a configured root counts as itself, a configured root inside a
   * client root counts as the configured root, and anything else counts for nothing. Throws when nothing remains,
   * naming the client's roots: there is never a fallback to the configured roots.
   */
  async forRequest(meta: Record<string, unknown> | undefined): Promise<readonly string[]> {
    if (meta === undefined || !Object.hasOwn(meta, CLIENT_ROOTS_META_KEY)) return this.configured;
    const declared = meta[CLIENT_ROOTS_META_KEY];
    const uris = Array.isArray(declared) ? declared.filter((uri): uri is string => typeof uri === 'string') : [];
    const effective: string[] = [];
    const add = (dir: string) => {
      if (!effective.includes(dir)) effective.push(dir);
    };
    for (const uri of uris) {
      const dir = await resolveClientRoot(uri);
      if (dir === undefined) continue;
      const holder = this.#configured.find(({ real }) => isWithin(dir, real));
      if (holder !== undefined) {
        add(dir);
        // The same directory reached through the root as written, so paths given that way are inside too.
        add(join(holder.written, relative(holder.real, dir)));
        continue;
      }
      for (const { written, real } of this.#configured) {
        if (isWithin(real, dir)) {
          add(written);
          add(real);
        }
      }
    }
    if (effective.length === 0) {
      throw new Error(
        `Access denied - none of the client's roots (${uris.length > 0 ? uris.join(', ') : 'none'}) is an existing ` +
          `directory inside this server's configured directories (${this.configured.join(', ') || 'none'}); ` +
          'declare a root inside them',
      );
    }
    return effective;
  }
}

/** The real path of a client root given as a `file://` URI, or undefined for anything else or a missing directory. */
async function resolveClientRoot(uri: string): Promise<string | undefined> {
  try {
    if (!uri.startsWith('file://')) return undefined;
    const raw = fileURLToPath(uri);
    if (raw.includes('\0') || !isAbsolute(raw)) return undefined;
    const real = await realpath(raw);
    return (await stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

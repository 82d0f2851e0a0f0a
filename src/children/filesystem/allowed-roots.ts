import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * The directories tools may touch. Configured roots are kept both as written and by real path (so `/tmp` and
 * `/private/tmp` both match); roots a client declares over MCP replace them, clipped to the configured ones.
 */
export class AllowedRoots {
  #configured: string[] = [];
  #current: string[] = [];

  /** The directories in force, as list_allowed_directories shows them. */
  get directories(): readonly string[] {
    return this.#current;
  }

  /** Sets the configured roots: absolute directories; missing or non-directory ones are skipped with a warning. */
  async configure(roots: readonly string[], warn: (message: string) => void): Promise<void> {
    const accepted: string[] = [];
    for (const root of roots) {
      if (typeof root !== 'string' || root.includes('\0') || !isAbsolute(expandHome(root))) {
        warn(`Ignoring root ${JSON.stringify(root)}: roots must be absolute paths`);
        continue;
      }
      const absolute = trimTrailingSlash(normalize(resolve(expandHome(root))));
      try {
        const real = await realpath(absolute);
        if (!(await stat(real)).isDirectory()) {
          warn(`Ignoring root ${absolute}: not a directory`);
          continue;
        }
        for (const candidate of [absolute, real]) if (!accepted.includes(candidate)) accepted.push(candidate);
      } catch {
        warn(`Ignoring root ${absolute}: it does not exist or cannot be read`);
      }
    }
    this.#configured = accepted;
    this.#current = [...accepted];
  }

  /**
   * Replaces the roots in force with the client's (`roots/list`). With configured roots, each client root is
   * clipped to them: one inside a configured root is kept, one that contains configured roots narrows to those,
   * one elsewhere is dropped. Returns the roots now in force; keeps the previous ones when none is usable.
   */
  async applyClientRoots(uris: readonly string[], warn: (message: string) => void): Promise<readonly string[]> {
    const accepted: string[] = [];
    const add = (dir: string) => {
      if (!accepted.includes(dir)) accepted.push(dir);
    };
    for (const uri of uris) {
      const dir = await resolveClientRoot(uri);
      if (dir === undefined) {
        warn(`Skipping client root ${uri}: not an existing directory`);
        continue;
      }
      if (this.#configured.length === 0 || isWithinAny(dir, this.#configured)) {
        add(dir);
        continue;
      }
      const narrowed = this.#configured.filter((root) => isWithin(root, dir));
      if (narrowed.length === 0) warn(`Skipping client root ${dir}: outside the configured roots`);
      for (const root of narrowed) add(root);
    }
    if (accepted.length === 0) {
      warn('No usable roots from the client; keeping the current ones');
      return this.#current;
    }
    this.#current = accepted;
    return accepted;
  }
}

async function resolveClientRoot(uri: string): Promise<string | undefined> {
  try {
    const raw = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
    if (raw.includes('\0')) return undefined;
    const real = await realpath(resolve(expandHome(raw)));
    return (await stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

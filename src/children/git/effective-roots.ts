import { realpath } from 'node:fs/promises';
import { isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ROOTS_META_KEY } from '../shared/client-roots.js';
import { MAX_CLIENT_ROOTS } from './limits.js';

/** Whether `path` is `root` or lies beneath it (both real paths). */
export function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of a client root given as a `file://` URI, or undefined for anything else or a missing directory. */
async function realClientRoot(uri: unknown): Promise<string | undefined> {
  if (typeof uri !== 'string' || !uri.startsWith('file://')) return undefined;
  try {
    const path = fileURLToPath(uri);
    return isAbsolute(path) ? await realpath(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Roots named in a message, at most: enough to recognise them, bounded whatever the request holds. */
const MAX_NAMED_ROOTS = 10;

function nameRoots(declared: readonly unknown[]): string {
  if (declared.length === 0) return 'none';
  const named = declared.slice(0, MAX_NAMED_ROOTS).map(String).join(', ');
  return declared.length > MAX_NAMED_ROOTS ? `${named}, …` : named;
}

/**
 * The directories one request may reach: the configured ones when the request carries no client roots, else their
 * intersection with the client's roots (resolved by real path, so a symbolic link cannot widen anything). Computed
 * afresh for every request, so one client's roots never shape another's. Throws when nothing remains.
 */
export async function effectiveRoots(
  configured: readonly string[],
  meta: Record<string, unknown> | undefined,
): Promise<readonly string[]> {
  if (meta === undefined || !Object.hasOwn(meta, CLIENT_ROOTS_META_KEY)) return configured;
  const declared = meta[CLIENT_ROOTS_META_KEY];
  if (!Array.isArray(declared)) throw new Error(`Invalid _meta["${CLIENT_ROOTS_META_KEY}"]: expected a list of URIs`);
  if (declared.length > MAX_CLIENT_ROOTS) {
    throw new Error(`Too many client roots: ${declared.length}; a request may carry at most ${MAX_CLIENT_ROOTS}`);
  }
  const effective: string[] = [];
  for (const uri of declared) {
    const root = await realClientRoot(uri);
    if (root === undefined) continue;
    for (const allowed of configured) {
      const reached = isWithin(root, allowed) ? root : isWithin(allowed, root) ? allowed : undefined;
      if (reached !== undefined && !effective.includes(reached)) effective.push(reached);
    }
  }
  if (effective.length === 0) {
    throw new Error(
      `No repository is reachable: this client's roots (${nameRoots(declared)}) lie outside ` +
        `the configured repositories (${configured.join(', ') || 'none'})`,
    );
  }
  return effective;
}

import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { expandHome, isWithin, isWithinAny } from './allowed-roots.js';

/** The `code` of a Node system error (`ENOENT`, …), or undefined. */
export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function outsideMessage(kind: string, path: string, roots: readonly string[]): string {
  return `Access denied - ${kind} outside allowed directories: ${path} not in ${roots.join(', ')}`;
}

/** Rejects what can never be a path: non-strings, empty strings, NUL bytes, Windows drive paths on POSIX. */
function assertPlausiblePath(requested: unknown, argument = 'path'): asserts requested is string {
  if (typeof requested !== 'string' || requested === '') {
    throw new Error(`Invalid ${argument}: expected a non-empty string`);
  }
  if (requested.includes('\0')) {
    throw new Error(`Invalid ${argument}: it contains a NUL byte, which no file name can hold`);
  }
  if (process.platform !== 'win32' && /^[A-Za-z]:(?:[\\/]|$)/.test(requested)) {
    throw new Error(`Access denied - Windows-style path received on a POSIX host: ${requested}`);
  }
}

/** The absolute form of a requested path: `~` expanded, relative paths taken against the first root that holds them. */
function absoluteRequestedPath(requested: string, roots: readonly string[]): string {
  const expanded = expandHome(requested);
  if (isAbsolute(expanded)) return resolve(expanded);
  for (const root of roots) {
    const candidate = resolve(root, expanded);
    if (isWithinAny(candidate, roots)) return candidate;
  }
  return resolve(roots[0] ?? process.cwd(), expanded);
}

/**
 * Resolves a requested path to the real path a tool may use, or throws "Access denied": the path must lie inside
 * the roots both as written (after `..` is resolved) and after every symbolic link is followed. A path that does
 * not exist yet resolves through its deepest existing ancestor, so a new file under a link that escapes is refused
 * too, and so is a dangling link.
 */
export async function resolveAllowedPath(
  requested: unknown,
  roots: readonly string[],
  argument = 'path',
): Promise<string> {
  assertPlausiblePath(requested, argument);
  if (roots.length === 0) throw new Error('No allowed directories are configured, so no path can be used');
  const absolute = absoluteRequestedPath(requested, roots);
  if (!isWithinAny(absolute, roots)) throw new Error(outsideMessage('path', absolute, roots));
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    return resolveMissingPath(absolute, roots);
  }
  if (!isWithinAny(real, roots)) throw new Error(outsideMessage('symlink target', real, roots));
  return real;
}

/** Walks from the root holding `absolute` down its existing components, checking each real path, then appends the rest. */
async function resolveMissingPath(absolute: string, roots: readonly string[]): Promise<string> {
  const root = [...roots].sort((a, b) => b.length - a.length).find((candidate) => isWithin(absolute, candidate))!;
  let current = await realpath(root);
  const parts = relative(root, absolute).split(sep).filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const candidate = join(current, parts[i]!);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (error) {
      if (errorCode(error) === 'ENOTDIR') throw new Error(`Not a directory: ${current}`);
      if (errorCode(error) !== 'ENOENT') throw error;
      const entry = await lstat(candidate).catch(() => undefined);
      if (entry?.isSymbolicLink()) {
        throw new Error(`Access denied - ${candidate} is a symbolic link to a missing target; it will not be followed`);
      }
      return join(current, ...parts.slice(i));
    }
    if (!isWithinAny(real, roots)) throw new Error(outsideMessage('symlink target', real, roots));
    current = real;
  }
  return current;
}

/**
 * Resolves a path naming a directory entry itself (move_file): its parent is resolved like any path, its last
 * component is kept as written, so a symbolic link is moved rather than its target. The entry must also pass
 * {@link resolveAllowedPath} when it exists, so a link that escapes is refused.
 */
export async function resolveAllowedEntry(
  requested: unknown,
  roots: readonly string[],
  argument: string,
): Promise<string> {
  const target = await resolveAllowedPath(requested, roots, argument);
  const absolute = absoluteRequestedPath(requested as string, roots);
  const name = basename(absolute);
  if (name === '' || roots.includes(absolute) || roots.includes(target)) {
    throw new Error(`Invalid ${argument}: ${absolute} is an allowed directory itself and cannot be moved or replaced`);
  }
  const parent = await resolveAllowedPath(dirname(absolute), roots, argument);
  return join(parent, name);
}

/**
 * Refuses a write inside a `.git` directory: a repository's config and hooks run commands (filters, hooks), so a
 * client that could write them would run code through git. Reading them stays allowed.
 */
export function assertWritable(path: string): string {
  if (path.split(sep).includes('.git')) {
    throw new Error(`Access denied - ${path} is inside a .git directory; write repository files through the git tools`);
  }
  return path;
}

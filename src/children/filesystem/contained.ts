import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readlink } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { isWithin, isWithinAny } from './allowed-roots.js';

/**
 * Linux's O_PATH (the same value on every architecture Node runs on): a descriptor that names a file or directory
 * without reading it, enough for fstat, for its real path and for resolving names below it. Node does not export it.
 */
const O_PATH = 0o10000000;

/** Opening a directory to resolve names below it: never reads it, fails on anything but a directory. */
const DIRECTORY_FLAGS = O_PATH | constants.O_DIRECTORY;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The path through which the kernel reaches exactly what `handle` has open. Names below it resolve inside that
 * very directory whatever has since been renamed or swapped for a link along the path it was opened by: this is
 * how names are resolved relative to a checked directory, as openat would, in a runtime that has no openat.
 */
export function descriptorPath(handle: FileHandle): string {
  return `/proc/self/fd/${handle.fd}`;
}

/** The real path of what `handle` has open, as the kernel sees it now. */
async function realPathOf(handle: FileHandle): Promise<string> {
  return readlink(descriptorPath(handle));
}

/**
 * Opens `path` and checks the real path of the open descriptor (not of the path: a link swapped in along it after
 * any earlier check is seen here), closing it and refusing when it lies outside `roots`. Everything the tools read,
 * list or write goes through a descriptor checked this way.
 */
export async function openContained(path: string, flags: number, roots: readonly string[]): Promise<FileHandle> {
  const handle = await open(path, flags);
  try {
    const real = await realPathOf(handle);
    if (!isWithinAny(real, roots)) {
      throw new Error(
        `Access denied - ${path} led outside the allowed directories (to ${real}) when opened; it changed while in use`,
      );
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Runs `body` with a checked descriptor of the directory `dir` (opened without reading it) and the path that
 * reaches it through that descriptor; names below that path stay in the checked directory. Closes it afterwards.
 */
export async function withContainedDir<T>(
  dir: string,
  roots: readonly string[],
  body: (at: string, handle: FileHandle) => Promise<T>,
): Promise<T> {
  const handle = await openContained(dir, DIRECTORY_FLAGS, roots);
  try {
    return await body(descriptorPath(handle), handle);
  } finally {
    await handle.close();
  }
}

/** Opens a file or directory by its final name without following a link there, checked like {@link openContained}. */
export function openContainedEntry(path: string, roots: readonly string[]): Promise<FileHandle> {
  return openContained(path, O_PATH | constants.O_NOFOLLOW, roots);
}

/**
 * Creates `path` and any missing parents one name at a time, each below a checked descriptor of the one before,
 * starting from the allowed root that holds it: a link swapped in for a directory along the way is met with
 * O_NOFOLLOW and refused, so no directory is ever made outside the roots. `path` is a real path inside `roots`.
 */
export async function makeContainedDirectory(path: string, roots: readonly string[]): Promise<void> {
  const root = [...roots].sort((a, b) => b.length - a.length).find((candidate) => isWithin(path, candidate));
  if (root === undefined) throw new Error(`Access denied - ${path} is outside the allowed directories`);
  let current = await openContained(root, DIRECTORY_FLAGS, roots);
  try {
    for (const name of relative(root, path).split(sep).filter(Boolean)) {
      const below = `${descriptorPath(current)}/${name}`;
      try {
        await mkdir(below);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      let next: FileHandle;
      try {
        next = await openContained(below, DIRECTORY_FLAGS | constants.O_NOFOLLOW, roots);
      } catch (error) {
        if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') {
          throw new Error(`Cannot create ${path}: ${name} is not a directory (or was replaced while in use)`);
        }
        throw error;
      }
      await current.close();
      current = next;
    }
  } finally {
    await current.close();
  }
}

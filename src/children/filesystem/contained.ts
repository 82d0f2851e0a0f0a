import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isWithin, isWithinAny } from './allowed-roots.js';
import { assertWritable, errorCode } from './resolve-path.js';

/**
 * Linux's O_PATH (the same value on every architecture Node runs on): a descriptor that names a file or directory
 * without reading it, enough for fstat, for its real path and for resolving names below it. Node does not export it.
 */
const O_PATH = 0o10000000;

/** Opening a directory to resolve names below it: never reads it, fails on anything but a directory. */
const DIRECTORY_FLAGS = O_PATH | constants.O_DIRECTORY;

/**
 * The path through which the kernel reaches exactly what `handle` has open. Names below it resolve inside that
 * very directory whatever has since been renamed or swapped for a link along the path it was opened by: this is
 * how names are resolved relative to a checked directory, as openat would, in a runtime that has no openat.
 */
function descriptorPath(handle: FileHandle): string {
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
  return (await openChecked(path, flags, roots)).handle;
}

async function openChecked(
  path: string,
  flags: number,
  roots: readonly string[],
): Promise<{ handle: FileHandle; real: string }> {
  const handle = await open(path, flags);
  try {
    const real = await realPathOf(handle);
    if (!isWithinAny(real, roots)) {
      throw new Error(
        `Access denied - ${path} led outside the allowed directories (to ${real}) when opened; it changed while in use`,
      );
    }
    return { handle, real };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Runs `body` with the path that reaches the directory `dir` through a checked descriptor of it (opened without
 * reading it) and the directory's real path as the descriptor found it; names below `at` stay in the checked
 * directory. Closes the descriptor afterwards.
 */
export async function withContainedDir<T>(
  dir: string,
  roots: readonly string[],
  body: (at: string, real: string) => Promise<T>,
): Promise<T> {
  const { handle, real } = await openChecked(dir, DIRECTORY_FLAGS, roots);
  try {
    return await body(descriptorPath(handle), real);
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
 * O_NOFOLLOW and refused, so no directory is ever made outside the roots, nor inside a `.git` directory.
 * `path` is a real path inside `roots`.
 */
export async function makeContainedDirectory(path: string, roots: readonly string[]): Promise<void> {
  const root = [...roots].sort((a, b) => b.length - a.length).find((candidate) => isWithin(path, candidate));
  if (root === undefined) throw new Error(`Access denied - ${path} is outside the allowed directories`);
  let current = await openChecked(root, DIRECTORY_FLAGS, roots);
  try {
    for (const name of relative(root, path).split(sep).filter(Boolean)) {
      assertWritable(join(current.real, name));
      const below = `${descriptorPath(current.handle)}/${name}`;
      try {
        await mkdir(below);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      let next: { handle: FileHandle; real: string };
      try {
        next = await openChecked(below, DIRECTORY_FLAGS | constants.O_NOFOLLOW, roots);
      } catch (error) {
        if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') {
          throw new Error(`Cannot create ${path}: ${name} is not a directory (or was replaced while in use)`);
        }
        throw error;
      }
      await current.handle.close();
      current = next;
    }
  } finally {
    await current.handle.close();
  }
}

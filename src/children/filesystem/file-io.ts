import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openContained, withContainedDir } from './contained.js';
import { assertWritable, errorCode } from './resolve-path.js';

/** Bytes read per step by head and tail: large enough for few system calls, small next to the read cap. */
const CHUNK_BYTES = 64 * 1024;

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

/**
 * Opens a file for reading without following a final symbolic link and without blocking on a FIFO, checks that
 * the open descriptor lies inside `roots`, and refuses anything but a regular file (devices, sockets and pipes
 * would hang or never end).
 */
async function openRegularFile(path: string, roots: readonly string[]): Promise<{ handle: FileHandle; size: number }> {
  const handle = await openContained(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK, roots);
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new Error(`${path} is a directory, not a file; list it with list_directory`);
    if (!info.isFile()) throw new Error(`${path} is not a regular file (device, socket or pipe) and cannot be read`);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readRange(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  // Only the bytes read are returned, so the buffer need not be zeroed first.
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Reads a file from its start to its end, stopping once more than `limit` bytes are in. The first read is sized by
 * `expectedSize` (the file's size when opened) so a small file costs one small buffer; a file that grew since is read
 * on in chunks.
 */
async function readToEnd(handle: FileHandle, expectedSize: number, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let want = Math.min(expectedSize, limit) + 1;
  for (;;) {
    const chunk = await readRange(handle, total, want);
    chunks.push(chunk);
    total += chunk.length;
    if (chunk.length < want || total > limit) break;
    want = Math.min(CHUNK_BYTES, limit + 1 - total);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** What to suggest when a file is over the read limit. */
const DEFAULT_OVERSIZE_HINT = 'read part of it with head or tail';

/** Reads a whole regular file inside `roots`, refusing one larger than `maxBytes` with a message ending in `hint`. */
export async function readFileCapped(
  path: string,
  roots: readonly string[],
  maxBytes: number,
  hint = DEFAULT_OVERSIZE_HINT,
): Promise<Buffer> {
  const { handle, size } = await openRegularFile(path, roots);
  try {
    if (size > maxBytes) {
      throw new Error(`${path} is ${size} bytes, over the ${formatMiB(maxBytes)} read limit; ${hint}`);
    }
    const data = await readToEnd(handle, size, maxBytes);
    if (data.length > maxBytes) {
      throw new Error(`${path} grew past the ${formatMiB(maxBytes)} read limit while being read; read part of it`);
    }
    return data;
  } finally {
    await handle.close();
  }
}

/** Reads a whole text file inside `roots` as UTF-8 (invalid bytes become U+FFFD), within `maxBytes`. */
export async function readTextCapped(
  path: string,
  roots: readonly string[],
  maxBytes: number,
  hint = DEFAULT_OVERSIZE_HINT,
): Promise<string> {
  return (await readFileCapped(path, roots, maxBytes, hint)).toString('utf8');
}

/** The first `lines` lines of a text file inside `roots`, joined by `\n` without a final newline, within `maxBytes`. */
export async function readHead(
  path: string,
  roots: readonly string[],
  lines: number,
  maxBytes: number,
): Promise<string> {
  const { handle } = await openRegularFile(path, roots);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    let newlines = 0;
    for (;;) {
      const chunk = await readRange(handle, total, CHUNK_BYTES);
      if (chunk.length === 0) break;
      chunks.push(chunk);
      total += chunk.length;
      for (const byte of chunk) if (byte === 0x0a) newlines++;
      if (newlines >= lines) break;
      if (total > maxBytes) {
        throw new Error(
          `The first ${lines} lines of ${path} exceed the ${formatMiB(maxBytes)} read limit; ask for fewer`,
        );
      }
    }
    const all = Buffer.concat(chunks).toString('utf8').split('\n');
    if (all.length > lines) return all.slice(0, lines).join('\n');
    if (all[all.length - 1] === '') all.pop();
    return all.join('\n');
  } finally {
    await handle.close();
  }
}

/** The last `lines` lines of a text file inside `roots` (a final newline ends the last line), within `maxBytes`. */
export async function readTail(
  path: string,
  roots: readonly string[],
  lines: number,
  maxBytes: number,
): Promise<string> {
  const { handle, size } = await openRegularFile(path, roots);
  try {
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    while (position > 0 && newlines < lines) {
      const length = Math.min(CHUNK_BYTES, position);
      position -= length;
      const chunk = await readRange(handle, position, length);
      chunks.unshift(chunk);
      for (let i = chunk.length - 1; i >= 0; i--) {
        if (chunk[i] === 0x0a && position + i !== size - 1) newlines++;
      }
      if (size - position > maxBytes && newlines < lines) {
        throw new Error(
          `The last ${lines} lines of ${path} exceed the ${formatMiB(maxBytes)} read limit; ask for fewer`,
        );
      }
    }
    let text = Buffer.concat(chunks).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    return text.split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

/**
 * Replaces (or creates) a file atomically inside `roots`: the content goes to a new temporary file (O_EXCL, so
 * nothing planted there is followed) in the target's directory, is flushed, takes the old file's permission bits
 * (or the umask default for a new file) and is renamed over the target, so readers see the old or the new content,
 * never a mix, and a link planted at the target is replaced, not followed. The directory is opened first and its
 * descriptor checked; the temporary file and the rename name entries below that descriptor, so a directory
 * swapped for a link to elsewhere between the check and the write cannot take the write out of the roots (nor
 * into a `.git` directory: that rule is checked again on the directory as opened).
 */
export async function writeFileAtomic(path: string, roots: readonly string[], content: string): Promise<void> {
  const name = basename(path);
  try {
    await withContainedDir(dirname(path), roots, (at, real) => {
      assertWritable(join(real, name));
      return writeBelow(at, name, path, content);
    });
  } catch (error) {
    if (errorCode(error) === 'ENOENT' && error instanceof Error && error.message.includes(`'${dirname(path)}'`)) {
      throw new Error(`Parent directory does not exist: ${dirname(path)}; create it with create_directory first`);
    }
    throw error;
  }
}

/** The atomic write itself, with `at` the checked directory's descriptor path and `path` only for messages. */
async function writeBelow(at: string, name: string, path: string, content: string): Promise<void> {
  const target = join(at, name);
  let mode: number | undefined;
  try {
    const info = await lstat(target);
    if (info.isDirectory()) throw new Error(`${path} is a directory; give a file path to write`);
    // A link found here (swapped in after the path was resolved) is replaced like a new file: its 0777 is no mode.
    if (!info.isSymbolicLink()) mode = info.mode & 0o777;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const temp = join(at, `.omnimind-${randomBytes(8).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode ?? 0o666);
    try {
      await handle.writeFile(content, 'utf8');
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** Whether a path names nothing (not even a dangling link). */
export async function isFree(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return false;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
}

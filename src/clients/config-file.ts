import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OmnimindError } from '../protocol/index.js';

/** Suffix of the copy of a config file taken before omnimind changes it. */
export const BACKUP_SUFFIX = '.omnimind-backup';
/** Backups may hold the client's secrets (API keys in `env`): only their owner reads them. */
const BACKUP_MODE = 0o600;
/** A user's own config file or directory created by omnimind is private, like the clients' own. */
const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

/** A client config file as found: the path the client reads, the regular file written, and what it holds. */
export interface ConfigFile {
  path: string;
  /** `path`, or the regular file of the user's that `path` is a symbolic link to. */
  target: string;
  /** The content; undefined when the file does not exist yet. */
  text: string | undefined;
  /** The permission bits to keep; undefined for a new file. */
  mode: number | undefined;
}

/** How a new file and its missing directories are made. */
export interface WriteOptions {
  /** User-scope files are 0600 in 0700 directories; project files (meant to be shared) follow the umask. */
  private: boolean;
}

function refuse(code: string, message: string): never {
  throw new OmnimindError(code, message);
}

function myUid(): number {
  return process.getuid?.() ?? 0;
}

/**
 * Reads a config file. A symbolic link is followed only to a regular file owned by the user (dotfile managers link
 * these files), which is then written in place of the link's target, keeping the link; anything else is refused.
 */
export function readConfigFile(path: string): ConfigFile {
  let link: ReturnType<typeof lstatSync>;
  try {
    link = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { path, target: path, text: undefined, mode: undefined };
    refuse('CLIENT_CONFIG_UNREADABLE', `Cannot read ${path} (${(error as Error).message}), so omnimind left it alone.`);
  }
  let target = path;
  if (link.isSymbolicLink()) {
    const points = readlinkSync(path);
    try {
      target = realpathSync(path);
    } catch {
      refuse(
        'CLIENT_CONFIG_SYMLINK',
        `${path} is a symbolic link to ${points}, which does not exist, so omnimind does not write through it: ` +
          'point it at a file or remove it, then run this again.',
      );
    }
    const stat = statSync(target);
    if (!stat.isFile() || stat.uid !== myUid()) {
      refuse(
        'CLIENT_CONFIG_SYMLINK',
        `${path} is a symbolic link to ${target}, which is not a regular file of yours, so omnimind does not write ` +
          `through it: edit ${target} by hand, or replace the link with a file.`,
      );
    }
  } else if (!link.isFile()) {
    refuse('CLIENT_CONFIG_NOT_FILE', `${path} is not a regular file, so omnimind left it alone: move it away first.`);
  }
  // What was opened is what is checked: a link swapped in since the lstat is not followed.
  const fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse('CLIENT_CONFIG_NOT_FILE', `${target} is not a regular file, so omnimind left it alone.`);
    if (stat.uid !== myUid()) {
      refuse(
        'CLIENT_CONFIG_NOT_OWNED',
        `${target} belongs to another user (uid ${stat.uid}), so omnimind left it alone: ` +
          'give it back to yourself (chown) or edit it as its owner.',
      );
    }
    return { path, target, text: readFileSync(fd, 'utf8'), mode: stat.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/** Refuses a file its owner made read-only: a deliberate lock, even for root, who could write it anyway. */
export function assertWritable(file: ConfigFile): void {
  if (file.mode !== undefined && (file.mode & 0o200) === 0) {
    refuse(
      'CLIENT_CONFIG_READ_ONLY',
      `${file.target} is read-only (mode 0${file.mode.toString(8)}), so omnimind left it unchanged: ` +
        `make it writable (chmod u+w ${file.target}) and run this again.`,
    );
  }
}

/** Writes `text` to `path` through a temp file in the same directory, fsynced then renamed: all or nothing. */
function writeAtomically(path: string, text: string, mode: number | undefined): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', mode ?? 0o666);
    try {
      writeFileSync(fd, text);
      if (mode !== undefined) fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {}
    const reason = error instanceof Error ? error.message : String(error);
    refuse('CLIENT_CONFIG_WRITE_FAILED', `Cannot write ${path} (${reason}); it was left unchanged.`);
  }
  // The rename is durable once the directory is: a crash now leaves the old file or the new one, never neither.
  try {
    const dir = openSync(dirname(path), constants.O_RDONLY);
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {}
}

/** Writes a config file's new text: a backup of the old content first, then the file atomically, keeping its mode. */
export function writeConfigFile(file: ConfigFile, text: string, options: WriteOptions): { backup: string | undefined } {
  assertWritable(file);
  let backup: string | undefined;
  if (file.text === undefined) {
    const dir = dirname(file.target);
    try {
      mkdirSync(dir, { recursive: true, mode: options.private ? PRIVATE_DIR_MODE : 0o777 });
    } catch (error) {
      refuse('CLIENT_CONFIG_WRITE_FAILED', `Cannot create ${dir} for ${file.target} (${(error as Error).message}).`);
    }
  } else {
    backup = `${file.path}${BACKUP_SUFFIX}`;
    writeAtomically(backup, file.text, BACKUP_MODE);
  }
  writeAtomically(file.target, text, file.mode ?? (options.private ? PRIVATE_FILE_MODE : undefined));
  return { backup };
}

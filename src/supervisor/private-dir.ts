import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { OmnimindPaths } from '../config/index.js';
import { OmnimindError } from '../protocol/index.js';

/** Directories omnimind makes are 0700: only their owner may list, enter or change them. */
export const PRIVATE_DIR_MODE = 0o700;
/** Files omnimind makes are 0600: only their owner may read or write them. */
export const PRIVATE_FILE_MODE = 0o600;

/** The sticky bit: in a directory that has it, only an entry's owner may rename or remove it (/tmp). */
const STICKY_BIT = 0o1000;

/** Which directory is checked, for the refusal's wording. */
export interface DirRole {
  /** What the directory is, e.g. "runtime directory". */
  role: string;
  /** The environment variable that moves it. */
  variable: string;
}

/** How a directory omnimind writes is created or verified. */
export interface PrivateDirOptions extends DirRole {
  /**
   * An existing directory that others may read but not change is tightened to 0700 (state: nothing can have been
   * planted in it); without this it is refused (the runtime directory must already be 0700).
   */
  tighten: boolean;
  /** Root also accepts a directory of another account placed where only root can create it (a system install). */
  rootAcceptsSystemPlaced?: boolean;
}

function refuse(path: string, options: DirRole, why: string, todo: string): never {
  throw new OmnimindError(
    'UNSAFE_DIRECTORY',
    `The ${options.role} ${path} ${why}. ${todo}, or set ${options.variable} to a directory of your own.`,
  );
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/** Refuses a parent that another user could use to swap the directory (writable without the sticky bit, or theirs). */
function checkParent(path: string, options: DirRole): void {
  const parent = dirname(path);
  const stat = statSync(parent);
  const uid = process.getuid?.() ?? 0;
  if (stat.uid !== uid && stat.uid !== 0) {
    refuse(
      path,
      options,
      `is inside ${parent}, which belongs to another user (uid ${stat.uid}) who could swap it`,
      'Move it',
    );
  }
  if ((stat.mode & 0o002) !== 0 && (stat.mode & STICKY_BIT) === 0) {
    refuse(
      path,
      options,
      `is inside ${parent}, which every user can change (mode ${octal(stat.mode)} without the sticky bit), so another user could swap it`,
      `Run \`chmod o-w ${parent}\``,
    );
  }
}

/**
 * Checks the directory itself through a descriptor opened without following a link, so what is checked is what
 * exists: a real directory, owned by this user, that no one else can change. Returns false if it does not exist.
 */
function checkDir(path: string, options: PrivateDirOptions): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ELOOP' || (code === 'ENOTDIR' && lstatSync(path).isSymbolicLink())) {
      refuse(
        path,
        options,
        'is a symbolic link, which another user could point anywhere',
        `Remove the link (\`rm ${path}\`)`,
      );
    }
    if (code === 'ENOTDIR') refuse(path, options, 'is not a directory', `Remove it (\`rm ${path}\`)`);
    throw new OmnimindError(
      'UNSAFE_DIRECTORY',
      `Cannot open the ${options.role} ${path}: ${(error as Error).message}.`,
      {
        cause: error,
      },
    );
  }
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.() ?? 0;
    if (stat.uid !== uid && !(uid === 0 && options.rootAcceptsSystemPlaced && onlyRootCanCreateIn(dirname(path)))) {
      refuse(
        path,
        options,
        `belongs to another user (uid ${stat.uid}), who could replace what is in it`,
        `Remove it (\`rm -r ${path}\`, as that user or root)`,
      );
    }
    if ((stat.mode & 0o077) === 0) return true;
    if ((stat.mode & 0o022) !== 0 || !options.tighten) {
      refuse(
        path,
        options,
        `has mode ${octal(stat.mode)}, so other users can ${(stat.mode & 0o022) !== 0 ? 'change' : 'read'} what is in it (it must be 0700)`,
        `Check what is in it and run \`chmod 700 ${path}\`, or remove it`,
      );
    }
    chmodSync(path, PRIVATE_DIR_MODE);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Creates the directory 0700 (its missing parents too), or verifies an existing one; refuses an unsafe one. */
export function ensurePrivateDir(path: string, options: PrivateDirOptions): void {
  if (checkDir(path, options)) return checkParent(path, options);
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  checkParent(path, options);
  try {
    mkdirSync(path, { mode: PRIVATE_DIR_MODE });
    chmodSync(path, PRIVATE_DIR_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Checked again: another process may have created it between the first look and mkdir.
  checkDir(path, options);
}

/** Whether only root can create entries in `dir` (root owns it and no one else may write to it, e.g. /run). */
function onlyRootCanCreateIn(dir: string): boolean {
  const stat = statSync(dir);
  return stat.uid === 0 && (stat.mode & 0o022) === 0;
}

/**
 * Verifies an existing directory without creating or changing anything; false when it does not exist. Root may use a
 * system install's runtime directory (another account's, placed where only root can create it).
 */
export function verifyPrivateDir(path: string, options: DirRole): boolean {
  if (!checkDir(path, { ...options, tighten: false, rootAcceptsSystemPlaced: true })) return false;
  checkParent(path, options);
  return true;
}

/** Makes this user's regular files directly in `dir` 0600 (files written by earlier versions or a looser umask). */
function tightenFiles(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(dir, entry.name);
    const stat = lstatSync(file);
    if (stat.isFile() && stat.uid === uid && (stat.mode & 0o077) !== 0) chmodSync(file, PRIVATE_FILE_MODE);
  }
}

/** The runtime directory's wording in refusals. */
export const RUNTIME_DIR_CHECK = { role: 'runtime directory', variable: 'OMNIMIND_RUNTIME_DIR' } as const;
const STATE_DIR_CHECK = { role: 'state directory', variable: 'OMNIMIND_HOME', tighten: true } as const;

/**
 * Creates or verifies every directory omnimind writes (state, logs, data: 0700, tightened if only readable by others;
 * runtime: exactly 0700) and makes the files already in state, logs and data 0600.
 */
export function preparePrivateDirs(paths: OmnimindPaths): void {
  for (const dir of [paths.home, paths.logsDir, paths.dataDir]) {
    ensurePrivateDir(dir, STATE_DIR_CHECK);
    tightenFiles(dir);
  }
  ensurePrivateDir(paths.runtimeDir, { ...RUNTIME_DIR_CHECK, tighten: false });
}

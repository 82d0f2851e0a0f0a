import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, verifyPrivateDir } from '../../../src/supervisor/private-dir.js';
import { ensureOtherUser } from '../../helpers/other-user.js';

const STATE = { role: 'state directory', variable: 'OMNIMIND_HOME', tighten: true };
const RUNTIME = { role: 'runtime directory', variable: 'OMNIMIND_RUNTIME_DIR', tighten: false };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'om-private-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('ensurePrivateDir', () => {
  it('creates the directory and its missing parents 0700 whatever the umask', () => {
    const previous = process.umask(0);
    try {
      ensurePrivateDir(join(dir, 'a', 'b'), RUNTIME);
    } finally {
      process.umask(previous);
    }
    expect(mode(join(dir, 'a'))).toBe('700');
    expect(mode(join(dir, 'a', 'b'))).toBe('700');
  });

  it('tightens a state directory others may only read, and refuses one they may change', () => {
    const readable = join(dir, 'readable');
    mkdirSync(readable);
    chmodSync(readable, 0o755);
    ensurePrivateDir(readable, STATE);
    expect(mode(readable)).toBe('700');
    const writable = join(dir, 'writable');
    mkdirSync(writable);
    chmodSync(writable, 0o775);
    expect(() => ensurePrivateDir(writable, STATE)).toThrow(
      `The state directory ${writable} has mode 0775, so other users can change what is in it (it must be 0700). Check what is in it and run \`chmod 700 ${writable}\`, or remove it, or set OMNIMIND_HOME to a directory of your own.`,
    );
    expect(mode(writable)).toBe('775');
  });

  it('refuses a runtime directory that is not exactly 0700, a link, or a file, and changes none of them', () => {
    const loose = join(dir, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o750);
    expect(() => ensurePrivateDir(loose, RUNTIME)).toThrow(/has mode 0750, so other users can read what is in it/);
    expect(mode(loose)).toBe('750');
    const target = join(dir, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(dir, 'link'));
    expect(() => ensurePrivateDir(join(dir, 'link'), RUNTIME)).toThrow(/is a symbolic link/);
    writeFileSync(join(dir, 'file'), '');
    expect(() => ensurePrivateDir(join(dir, 'file'), RUNTIME)).toThrow(/is not a directory/);
  });

  it('refuses a directory inside a parent every user can change, but not inside a sticky one', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => ensurePrivateDir(join(open, 'run'), RUNTIME)).toThrow(/which every user can change/);
    chmodSync(open, 0o1777);
    ensurePrivateDir(join(open, 'run'), RUNTIME);
    expect(mode(join(open, 'run'))).toBe('700');
  });
});

describe('verifyPrivateDir', () => {
  it('is false for a missing directory and creates nothing', () => {
    expect(verifyPrivateDir(join(dir, 'missing'), RUNTIME)).toBe(false);
    expect(() => statSync(join(dir, 'missing'))).toThrow();
  });

  it('is true for a private directory and refuses a loose one without changing it', () => {
    const ok = join(dir, 'ok');
    mkdirSync(ok, { mode: 0o700 });
    expect(verifyPrivateDir(ok, RUNTIME)).toBe(true);
    chmodSync(ok, 0o755);
    expect(() => verifyPrivateDir(ok, RUNTIME)).toThrow(/has mode 0755/);
    expect(mode(ok)).toBe('755');
  });
});

describe('verifyPrivateDir as root (a system install)', () => {
  it("accepts another account's 0700 directory only where only root can create it", () => {
    const other = ensureOtherUser();
    const rootOnly = join(dir, 'run-like');
    mkdirSync(rootOnly, { mode: 0o755 });
    const service = join(rootOnly, 'omnimind');
    mkdirSync(service, { mode: 0o700 });
    chownSync(service, other.uid, other.gid);
    expect(verifyPrivateDir(service, RUNTIME)).toBe(true);
    // The same directory where anyone may create entries could have been planted by that account: refused.
    const shared = join(dir, 'tmp-like');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const planted = join(shared, 'omnimind');
    mkdirSync(planted, { mode: 0o700 });
    chownSync(planted, other.uid, other.gid);
    expect(() => verifyPrivateDir(planted, RUNTIME)).toThrow(/belongs to another user/);
    // The supervisor itself never runs in another account's directory.
    expect(() => ensurePrivateDir(service, RUNTIME)).toThrow(/belongs to another user/);
  });
});

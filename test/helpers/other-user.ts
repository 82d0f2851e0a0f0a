import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';

/** The account the tests use as "another local user" (created when missing; the tests run as root). */
export const OTHER_USER = 'omnimind-other';

/** Another local user's ids. */
export interface OtherUser {
  uid: number;
  gid: number;
}

/** Creates the other user if it does not exist yet and returns its ids; the tests must run as root to do so. */
export function ensureOtherUser(): OtherUser {
  if (process.getuid?.() !== 0)
    throw new Error('these tests play another local user and must run as root (as CI does)');
  const id = (flag: string) => Number(execFileSync('id', [flag, OTHER_USER], { encoding: 'utf8' }).trim());
  if (spawnSync('id', [OTHER_USER]).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
  }
  return { uid: id('-u'), gid: id('-g') };
}

/** What a script run as the other user printed. */
export interface OtherResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function options(user: OtherUser) {
  return { uid: user.uid, gid: user.gid, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
}

/** Runs a Node script as the other user and waits for it (bounded at 20 s). */
export function runAsOther(user: OtherUser, script: string, args: string[] = []): OtherResult {
  const result = spawnSync(process.execPath, ['-e', script, ...args], {
    ...options(user),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts a long-running Node script as the other user; it prints "ready" when set up. */
export async function startAsOther(user: OtherUser, script: string, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', script, ...args], {
    ...options(user),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`the other user's script exited (${code}): ${err}`)));
  });
  return child;
}

/**
 * A script for `runAsOther`: for each path given as an argument, prints `path code` where code is `ok` if the other
 * user could open it for reading (or connect to it, for a socket), else the error code.
 */
export const TRY_READ_EACH = `
const fs = require('node:fs');
const net = require('node:net');
(async () => {
  for (const path of process.argv.slice(1)) {
    let code;
    try {
      if (fs.statSync(path).isSocket()) {
        code = await new Promise((resolve) => {
          const s = net.connect(path);
          s.once('connect', () => { s.destroy(); resolve('ok'); });
          s.once('error', (e) => resolve(e.code));
        });
      } else {
        fs.closeSync(fs.openSync(path, 'r'));
        code = 'ok';
      }
    } catch (e) {
      code = e.code;
    }
    console.log(path + ' ' + code);
  }
})();
`;

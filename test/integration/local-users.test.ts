import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, isRunning, NO_BUILTINS, runCli, waitFor } from '../helpers/harness.js';
import { ensureOtherUser, type OtherUser, runAsOther, startAsOther, TRY_READ_EACH } from '../helpers/other-user.js';

const harnesses: Harness[] = [];
const squatters: ChildProcess[] = [];
afterEach(async () => {
  for (const squatter of squatters.splice(0)) squatter.kill('SIGKILL');
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

let other: OtherUser;
beforeAll(() => {
  other = ensureOtherUser();
});

/** A harness whose temp dir the other user may enter, so every attack reaches omnimind's own checks. */
function harness(mcpServers: Record<string, unknown> = {}): Harness {
  const h = createHarness({ children: NO_BUILTINS, mcpServers });
  harnesses.push(h);
  chmodSync(h.dir, 0o755);
  return h;
}

/** Every file, socket and directory under `dir`, `dir` included. */
function walk(dir: string): string[] {
  const out = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** What the other user got trying to open (or connect to) each path. */
function triedByOther(paths: string[]): Map<string, string> {
  const result = runAsOther(other, TRY_READ_EACH, paths);
  expect(result.status, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  return new Map(lines.map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
}

async function supervisorPid(h: Harness): Promise<number> {
  const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as { supervisor: { pid: number } };
  return status.supervisor.pid;
}

/** The names of the listening unix sockets a process holds (abstract ones start with "@"). */
function unixSocketNames(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  const names: string[] = [];
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && inodes.has(fields[6] ?? '')) names.push(fields[7] ?? '');
  }
  return names;
}

describe('another local user', () => {
  it('cannot hand omnimind a runtime directory: one of theirs, one others can change, a link or a shared parent is refused with what to do', async () => {
    const h = harness({ alpha: fixture() });
    const shared = join(h.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const runtimeDir = join(shared, 'run');
    const env = { ...h.env, OMNIMIND_RUNTIME_DIR: runtimeDir };
    const start = () => runCli(['start'], env, h.dir);

    const made = runAsOther(
      other,
      `const fs = require('node:fs'); fs.mkdirSync(process.argv[1]); fs.chmodSync(process.argv[1], 0o777);`,
      [runtimeDir],
    );
    expect(made.status, made.stderr).toBe(0);
    const theirs = await start();
    expect(theirs.code).toBe(1);
    expect(theirs.stderr).toContain(`The runtime directory ${runtimeDir} belongs to another user (uid ${other.uid})`);
    expect(theirs.stderr).toContain('or set OMNIMIND_RUNTIME_DIR to a directory of your own');
    expect(theirs.stderr).not.toContain('    at ');
    const status = await runCli(['status'], env, h.dir);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('belongs to another user');
    expect(readdirSync(runtimeDir)).toEqual([]);
    rmSync(runtimeDir, { recursive: true });

    mkdirSync(runtimeDir);
    chmodSync(runtimeDir, 0o777);
    const open = await start();
    expect(open.code).toBe(1);
    expect(open.stderr).toContain(`The runtime directory ${runtimeDir} has mode 0777, so other users can change`);
    expect(open.stderr).toContain(`chmod 700 ${runtimeDir}`);
    expect(readdirSync(runtimeDir)).toEqual([]);
    rmSync(runtimeDir, { recursive: true });

    const linked = runAsOther(
      other,
      `const fs = require('node:fs'); const [link, target] = process.argv.slice(1);
       fs.mkdirSync(target, { mode: 0o700 }); fs.symlinkSync(target, link);`,
      [runtimeDir, join(shared, 'theirs')],
    );
    expect(linked.status, linked.stderr).toBe(0);
    const link = await start();
    expect(link.code).toBe(1);
    expect(link.stderr).toContain(`The runtime directory ${runtimeDir} is a symbolic link`);
    expect(link.stderr).toContain(`rm ${runtimeDir}`);
    expect(readdirSync(join(shared, 'theirs'))).toEqual([]);

    const openParent = join(h.dir, 'open');
    mkdirSync(openParent);
    chmodSync(openParent, 0o777);
    const inOpen = await runCli(['start'], { ...h.env, OMNIMIND_RUNTIME_DIR: join(openParent, 'run') }, h.dir);
    expect(inOpen.code).toBe(1);
    expect(inOpen.stderr).toContain(`is inside ${openParent}, which every user can change`);
    expect(existsSync(join(h.home, 'omnimind.db'))).toBe(false);
  });

  it('can open none of the files omnimind made, whatever the umask and the modes of existing directories', async () => {
    const h = harness({ alpha: fixture() });
    // An existing state directory and log directory that everyone may read, and a cache file from a looser past.
    chmodSync(h.home, 0o755);
    mkdirSync(join(h.home, 'logs'));
    chmodSync(join(h.home, 'logs'), 0o755);
    writeFileSync(join(h.home, 'cache.db'), '');
    chmodSync(join(h.home, 'cache.db'), 0o644);
    const started = await h.cli(['start'], { umask: '000' });
    expect(started.code, started.stderr).toBe(0);
    const client = await h.client('alpha');
    await client.listTools();
    expect((await client.callTool({ name: 'echo', arguments: { text: 'secret' } })).content).toEqual([
      { type: 'text', text: 'secret' },
    ]);

    const paths = [...walk(h.home), ...walk(h.runtimeDir)];
    const expected = [
      'omnimind.db',
      'omnimind.db-wal',
      'cache.db',
      'cache.db-wal',
      'logs/supervisor.log',
      'logs/alpha.log',
    ].map((f) => join(h.home, f));
    expected.push(...['control.sock', 'alpha.sock'].map((f) => join(h.runtimeDir, f)));
    for (const path of expected) expect(paths).toContain(path);
    for (const path of paths) {
      const mode = lstatSync(path).mode & 0o777;
      expect({ path, mode: mode.toString(8) }).toEqual({
        path,
        mode: lstatSync(path).isDirectory() ? '700' : '600',
      });
    }

    for (const [path, code] of triedByOther(paths)) expect({ path, code }).toEqual({ path, code: 'EACCES' });
    // The directories opened up: each file's own mode still keeps the other user out.
    const dirs = paths.filter((p) => lstatSync(p).isDirectory());
    for (const dir of dirs) chmodSync(dir, 0o755);
    try {
      const files = paths.filter((p) => !lstatSync(p).isDirectory());
      for (const [path, code] of triedByOther(files)) expect({ path, code }).toEqual({ path, code: 'EACCES' });
    } finally {
      for (const dir of dirs) chmodSync(dir, 0o700);
    }
  });

  it('cannot block a start by squatting the lock name, reach the lock, and a SIGKILLed supervisor never blocks the next start', async () => {
    const h = harness({ alpha: fixture() });
    // The abstract socket name earlier versions locked with: abstract names have no permissions.
    const digest = createHash('sha256').update(h.runtimeDir).digest('hex').slice(0, 24);
    squatters.push(
      await startAsOther(
        other,
        `require('node:net').createServer((s) => s.destroy()).listen('\\0' + process.argv[1], () => console.log('ready'));`,
        [`omnimind.0.${digest}`],
      ),
    );
    const started = await h.cli(['start'], { timeoutMs: 30_000 });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/alpha\s+RUNNING/);
    const first = await supervisorPid(h);
    const names = unixSocketNames(first);
    expect(names.sort()).toEqual(
      ['alpha.sock', 'control.sock', 'omnimind.sock'].map((name) => join(h.runtimeDir, name)).sort(),
    );
    const tried = triedByOther([join(h.runtimeDir, 'supervisor.lock'), join(h.runtimeDir, 'control.sock')]);
    expect([...tried.values()]).toEqual(['EACCES', 'EACCES']);

    process.kill(first, 'SIGKILL');
    await waitFor(() => !isRunning(first));
    // Two starts racing for the lock the killed supervisor held: exactly one supervisor runs.
    // Each waits for the children of the one that won, which on a loaded machine can take a while.
    const again = await Promise.all([h.cli(['start'], { timeoutMs: 90_000 }), h.cli(['start'], { timeoutMs: 90_000 })]);
    for (const result of again) {
      const log = readFileSync(join(h.home, 'logs', 'supervisor.log'), 'utf8').slice(-4000);
      expect(result.code, `${result.stderr}\n${log}`).toBe(0);
    }
    const second = await supervisorPid(h);
    expect(second).not.toBe(first);
    const log = readFileSync(join(h.home, 'logs', 'supervisor.log'), 'utf8');
    expect(log.match(/supervisor [\d.]+ started/g)).toHaveLength(2);
    const racing = await h.cli(['start', '--foreground'], { timeoutMs: 30_000 });
    expect(racing.code).toBe(0);
    expect(racing.stderr).toContain(`A supervisor is already running for ${h.runtimeDir}.`);
    expect(isRunning(second)).toBe(true);
  }, 240_000);
});

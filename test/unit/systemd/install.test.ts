import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CommandRunner, type InstallOptions, installUnits, uninstallUnits } from '../../../src/systemd/index.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'omnimind-install-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const env = { HOME: '/home/me', USER: 'me' };
const userUnitDir = '/home/me/.config/systemd/user';

function options(overrides: Partial<InstallOptions> = {}): InstallOptions {
  return {
    mode: 'user',
    root,
    env,
    nodePath: process.execPath,
    cliPath: join(process.cwd(), 'bin', 'omnimind.js'),
    children: ['memory', 'git'],
    readWritePaths: ['/home/me/project'],
    home: '/home/me/.local/state/omnimind',
    configFile: '/home/me/.config/omnimind/config.json',
    ...overrides,
  };
}

/** A runner that records each command line and answers with `reply`. */
function recordingRunner(reply: (line: string) => { exitCode: number; stderr: string }): CommandRunner & {
  lines: string[];
} {
  const lines: string[] = [];
  const run = async (command: string, args: string[]) => {
    const line = [command, ...args].join(' ');
    lines.push(line);
    return reply(line);
  };
  return Object.assign(run, { lines });
}

describe('installUnits', () => {
  it('renders without writing anything in a dry run, listing the commands it would run', async () => {
    const report = await installUnits(options({ dryRun: true }));
    expect(existsSync(join(root, 'home'))).toBe(false);
    expect(report.dryRun).toBe(true);
    expect(report.files.map((file) => file.path)).toEqual([
      join(root, userUnitDir, 'omnimind.service'),
      join(root, userUnitDir, 'omnimind@.socket'),
      join(root, userUnitDir, 'omnimind-control.socket'),
    ]);
    expect(report.files.every((file) => !file.done && (file.text ?? '').includes('omnimind'))).toBe(true);
    expect(report.commands).toEqual([]);
    expect(report.pending).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now omnimind.service omnimind-control.socket omnimind@memory.socket omnimind@git.socket',
    ]);
    expect(report.advice).toContain(
      'Run `loginctl enable-linger me` so omnimind starts at boot and keeps running after you log out.',
    );
  });

  it('still writes the units where systemctl cannot reach systemd, and says what is left to do', async () => {
    // This machine has systemctl but no running systemd: the real command fails.
    const report = await installUnits(options());
    const dir = join(root, userUnitDir);
    expect(readdirSync(dir).sort()).toEqual(['omnimind-control.socket', 'omnimind.service', 'omnimind@.socket']);
    expect(readFileSync(join(dir, 'omnimind.service'), 'utf8')).toBe(report.files[0]?.text);
    expect(statSync(join(dir, 'omnimind.service')).mode & 0o777).toBe(0o644);
    expect(statSync(join(root, '/home/me/.local/state/omnimind')).mode & 0o777).toBe(0o700);
    expect(report.systemdReachable).toBe(false);
    expect(report.commands).toHaveLength(1);
    expect(report.commands[0]?.command).toBe('systemctl --user daemon-reload');
    expect(report.commands[0]?.exitCode).not.toBe(0);
    expect(report.warnings.join('\n')).toMatch(
      /systemctl could not reach systemd \(.+\)\. The unit files are in place/,
    );
    expect(report.pending).toEqual([
      'systemctl --user enable --now omnimind.service omnimind-control.socket omnimind@memory.socket omnimind@git.socket',
    ]);
  });

  it('runs daemon-reload and enable --now when systemd answers, and skips the linger advice when lingering', async () => {
    mkdirSync(join(root, 'var/lib/systemd/linger'), { recursive: true });
    writeFileSync(join(root, 'var/lib/systemd/linger/me'), '');
    const run = recordingRunner(() => ({ exitCode: 0, stderr: '' }));
    const report = await installUnits(options({ run, children: ['memory'] }));
    expect(run.lines).toEqual([
      'systemctl --user daemon-reload',
      'systemctl --user enable --now omnimind.service omnimind-control.socket omnimind@memory.socket',
    ]);
    expect(report.pending).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.advice).toEqual([]);
  });

  it('stops at a failing command and leaves the rest to run by hand', async () => {
    const run = recordingRunner(() => ({ exitCode: 1, stderr: 'Access denied\n' }));
    const report = await installUnits(options({ run }));
    expect(run.lines).toEqual(['systemctl --user daemon-reload']);
    expect(report.systemdReachable).toBe(true);
    expect(report.warnings).toEqual(['`systemctl --user daemon-reload` failed with exit code 1: Access denied']);
    expect(report.pending).toHaveLength(1);
  });

  it('only reloads with enable: false, and says how to enable later', async () => {
    const run = recordingRunner(() => ({ exitCode: 0, stderr: '' }));
    const report = await installUnits(options({ run, enable: false, children: [] }));
    expect(run.lines).toEqual(['systemctl --user daemon-reload']);
    expect(report.advice).toContain(
      'Enable it when ready: systemctl --user enable --now omnimind.service omnimind-control.socket',
    );
  });

  it('creates the system account with sysusers and writes system units under /etc', async () => {
    const report = await installUnits(
      options({ mode: 'system', home: '/var/lib/omnimind', configFile: '/etc/omnimind/config.json' }),
    );
    expect(readdirSync(join(root, 'etc/systemd/system')).sort()).toEqual([
      'omnimind-control.socket',
      'omnimind.service',
      'omnimind@.socket',
    ]);
    expect(readFileSync(join(root, 'etc/sysusers.d/omnimind.conf'), 'utf8')).toMatch(/^u omnimind - /m);
    expect(report.commands[0]).toMatchObject({
      command: expect.stringMatching(/^systemd-sysusers --root=/),
      exitCode: 0,
    });
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^omnimind:x:\d+:\d+:.*:\/var\/lib\/omnimind:/m);
    expect(report.commands[1]).toMatchObject({ command: 'systemctl daemon-reload' });
    expect(report.systemdReachable).toBe(false);
    expect(report.pending[0]).toMatch(/^systemctl enable --now omnimind\.service /);
    expect(report.advice.join('\n')).not.toMatch(/linger/);
  });
});

describe('uninstallUnits', () => {
  it('removes the units and their enablement links even when systemd is unreachable', async () => {
    await installUnits(options({ enable: false }));
    const dir = join(root, userUnitDir);
    mkdirSync(join(dir, 'sockets.target.wants'));
    mkdirSync(join(dir, 'default.target.wants'));
    symlinkSync(join(userUnitDir, 'omnimind@.socket'), join(dir, 'sockets.target.wants', 'omnimind@memory.socket'));
    symlinkSync(join(userUnitDir, 'omnimind.service'), join(dir, 'default.target.wants', 'omnimind.service'));
    writeFileSync(join(dir, 'other.service'), '[Service]\nExecStart=/bin/true\n');

    const report = await uninstallUnits({ mode: 'user', root, env });
    expect(readdirSync(dir).sort()).toEqual(['default.target.wants', 'other.service', 'sockets.target.wants']);
    expect(readdirSync(join(dir, 'sockets.target.wants'))).toEqual([]);
    expect(readdirSync(join(dir, 'default.target.wants'))).toEqual([]);
    expect(report.files.map((file) => file.path)).toContain(
      join(dir, 'sockets.target.wants', 'omnimind@memory.socket'),
    );
    expect(report.systemdReachable).toBe(false);
    expect(report.commands.map((outcome) => outcome.command)).toEqual([
      "systemctl --user stop omnimind.service omnimind-control.socket 'omnimind@*.socket'",
    ]);
    expect(report.pending).toEqual([
      'systemctl --user disable omnimind.service omnimind-control.socket omnimind@.socket',
      'systemctl --user daemon-reload',
    ]);
  });

  it('touches nothing in a dry run', async () => {
    await installUnits(options({ enable: false }));
    const run = recordingRunner(() => ({ exitCode: 0, stderr: '' }));
    const report = await uninstallUnits({ mode: 'user', root, env, dryRun: true, run });
    expect(run.lines).toEqual([]);
    expect(readdirSync(join(root, userUnitDir))).toHaveLength(3);
    expect(report.files.map((file) => file.done)).toEqual([false, false, false]);
    expect(report.pending).toHaveLength(3);
  });
});

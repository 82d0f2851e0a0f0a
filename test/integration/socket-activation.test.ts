import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, createHarness, fixture, type Harness, NO_BUILTINS, ROOT, waitFor } from '../helpers/harness.js';

type TextContent = Array<{ type: string; text: string }>;
let holder: ChildProcess | undefined;
let h: Harness | undefined;
afterEach(async () => {
  holder?.kill('SIGKILL');
  await h?.cleanup();
});

describe('socket activation', () => {
  it('serves inherited sockets, never unlinks them, and holds connections made while the supervisor restarts', async () => {
    h = createHarness({ children: NO_BUILTINS, mcpServers: { echo: fixture() } });
    const harness = h;
    mkdirSync(harness.runtimeDir, { recursive: true, mode: 0o700 });
    const control = join(harness.runtimeDir, 'control.sock');
    let output = '';
    holder = spawn(
      'python3',
      [
        join(ROOT, 'test', 'fixtures', 'socket-holder.py'),
        '1',
        `echo=${harness.socket('echo')}`,
        `omnimind=${harness.socket('omnimind')}`,
        `control=${control}`,
        '--',
        process.execPath,
        CLI,
        'start',
        '--foreground',
      ],
      { env: harness.env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    holder.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await waitFor(() => output.includes('run 0'));
    const first = await harness.client('echo');
    const reply = await first.callTool({ name: 'echo', arguments: { text: 'activated' } });
    expect((reply.content as TextContent)[0]?.text).toBe('activated');
    const status = JSON.parse((await harness.cli(['status', '--json'])).stdout) as { supervisor: { systemd: boolean } };
    expect(status.supervisor.systemd).toBe(true);
    // A profile's socket arrives the same way, named after the profile.
    const profile = await harness.client('omnimind');
    const viaProfile = await profile.callTool({ name: 'echo__echo', arguments: { text: 'through the profile' } });
    expect((viaProfile.content as TextContent)[0]?.text).toBe('through the profile');

    const stopped = await harness.cli(['stop']);
    expect(stopped.code).toBe(0);
    expect(existsSync(harness.socket('echo'))).toBe(true);
    expect(existsSync(control)).toBe(true);
    const second = await harness.client('echo');
    const after = await second.callTool({ name: 'echo', arguments: { text: 'after restart' } });
    expect((after.content as TextContent)[0]?.text).toBe('after restart');
    expect(output).toContain('run 1');
  });

  it('enables the socket unit of a child added by a reload and disables that of a removed one', async () => {
    h = createHarness({ children: NO_BUILTINS, mcpServers: { echo: fixture() } });
    const harness = h;
    mkdirSync(harness.runtimeDir, { recursive: true, mode: 0o700 });
    // systemctl is a recorder here: PID 1 is not systemd.
    const bin = join(harness.dir, 'bin');
    mkdirSync(bin);
    const calls = join(harness.dir, 'systemctl.calls');
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
    chmodSync(join(bin, 'systemctl'), 0o755);
    let output = '';
    holder = spawn(
      'python3',
      [
        join(ROOT, 'test', 'fixtures', 'socket-holder.py'),
        '1',
        `echo=${harness.socket('echo')}`,
        `control=${join(harness.runtimeDir, 'control.sock')}`,
        '--',
        process.execPath,
        CLI,
        'start',
        '--foreground',
      ],
      { env: { ...harness.env, MANAGERPID: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    holder.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    await waitFor(() => output.includes('run 0'));
    const echo = await harness.client('echo');
    await echo.callTool({ name: 'echo', arguments: { text: 'up' } });
    harness.env.PATH = `${bin}:${harness.env.PATH ?? ''}`;

    harness.writeConfig({ children: NO_BUILTINS, mcpServers: { echo: fixture(), beta: fixture() } });
    const added = await harness.cli(['reload']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('ran systemctl --user enable omnimind@beta.socket: ok');
    const beta = await harness.client('beta');
    const reply = await beta.callTool({ name: 'echo', arguments: { text: 'added' } });
    expect((reply.content as TextContent)[0]?.text).toBe('added');

    harness.writeConfig({ children: NO_BUILTINS, mcpServers: { echo: fixture() } });
    const removed = await harness.cli(['reload']);
    expect(removed.code).toBe(0);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual([
      '--user enable omnimind@beta.socket',
      '--user disable --now omnimind@beta.socket',
    ]);
    // A reload that adds or removes no endpoint runs no systemctl.
    expect((await harness.cli(['reload'])).stdout).not.toContain('systemctl');
  });
});

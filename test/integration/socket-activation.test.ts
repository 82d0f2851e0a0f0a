import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
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
});

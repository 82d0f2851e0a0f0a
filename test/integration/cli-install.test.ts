import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, runCli } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

describe('omnimind install / uninstall', () => {
  it('prints the units on --dry-run and writes nothing', async () => {
    const h = createHarness({});
    harnesses.push(h);
    const root = join(h.dir, 'root');
    const result = await h.cli(['install', '--dry-run', '--root', root]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Type=notify');
    expect(result.stdout).toContain('omnimind@memory.socket');
    expect(result.stdout).toContain('Would run');
    expect(existsSync(root)).toBe(false);
  });

  it('writes the units where systemd is unreachable, says so, and uninstalls them', async () => {
    const h = createHarness({ children: { filesystem: { roots: ['/srv/project'] } } });
    harnesses.push(h);
    const root = join(h.dir, 'root');
    const env = { ...h.env, HOME: join(h.dir, 'user'), XDG_CONFIG_HOME: '' };
    const installed = await runCli(['install', '--root', root], env, h.dir);
    expect(installed.code).toBe(0);
    const service = join(root, h.dir, 'user', '.config', 'systemd', 'user', 'omnimind.service');
    expect(readFileSync(service, 'utf8')).toContain(`ExecStart="${process.execPath}"`);
    expect(readFileSync(service, 'utf8')).toContain('/srv/project');
    expect(installed.stdout).toContain('systemd is not reachable');
    expect(installed.stdout).toContain('daemon-reload');
    expect(installed.stdout).toContain('loginctl enable-linger');
    const removed = await runCli(['uninstall', '--root', root], env, h.dir);
    expect(removed.code).toBe(0);
    expect(existsSync(service)).toBe(false);
  });
});

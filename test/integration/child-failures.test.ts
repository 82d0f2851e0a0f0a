import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

function harness(mcpServers: Record<string, unknown>): Harness {
  const h = createHarness({ children: NO_BUILTINS, mcpServers });
  harnesses.push(h);
  return h;
}

interface ChildJson {
  name: string;
  state: string;
  restarts: number;
  lastExit: { reason: string; message?: string } | null;
}

async function child(h: Harness, name: string): Promise<ChildJson> {
  const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as { children: ChildJson[] };
  return status.children.find((c) => c.name === name)!;
}

/** The lowest descriptor number a process does not use: with its soft limit set there, it can open nothing more. */
function lowestFreeFd(pid: number): number {
  const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  let fd = 0;
  while (used.has(fd)) fd++;
  return fd;
}

function softNofile(pid: number): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3]);
}

describe('a child that cannot start', () => {
  it('says why in start, status and status --json, and shows no restarts it never had', async () => {
    const h = harness({ ghost: { command: 'omnimind-no-such-command' }, ok: fixture() });
    const started = await h.cli(['start']);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain(
      'child "ghost" failed to start: FATAL (last exit: spawn-failed: spawn omnimind-no-such-command ENOENT)',
    );
    const status = await h.cli(['status']);
    expect(status.code).toBe(3);
    // No pid, uptime, memory or CPU time, and no restarts it never had.
    expect(status.stdout).toMatch(/ghost\s+FATAL\s+-\s+-\s+-\s+-\s+0\s/);
    expect(status.stdout).toContain(
      'child "ghost" is FATAL; last exit: spawn-failed: spawn omnimind-no-such-command ENOENT',
    );
    const ghost = await child(h, 'ghost');
    expect(ghost).toMatchObject({
      state: 'FATAL',
      restarts: 0,
      lastExit: { reason: 'spawn-failed', message: 'spawn omnimind-no-such-command ENOENT' },
    });
    expect((await child(h, 'ok')).state).toBe('RUNNING');
  });

  it('says how a child that crashed before answering ended', async () => {
    const h = harness({ crash: fixture('--crash-on-start') });
    const started = await h.cli(['start']);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain('child "crash" failed to start: FATAL (last exit: crashed: exited with code 1)');
    expect(started.stderr).toContain('fixture: crashing on start');
    expect((await child(h, 'crash')).lastExit?.message).toBe('exited with code 1');
  });

  it('is retried, never made FATAL, while the supervisor is out of descriptors, and runs once they are back', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      supervisor: { pid: number };
      children: Array<{ pid: number }>;
    };
    const supervisor = status.supervisor.pid;
    const first = status.children[0]!.pid;
    // Past the failed-start window, so the kill itself is an ordinary restart.
    await new Promise((r) => setTimeout(r, 1_500));
    const soft = softNofile(supervisor);
    execFileSync('prlimit', ['--pid', String(supervisor), `--nofile=${lowestFreeFd(supervisor)}:`]);
    const log = join(h.home, 'logs', 'supervisor.log');
    const shortages = () => readFileSync(log, 'utf8').match(/"alpha" could not be spawned for lack of descriptors/g);
    try {
      process.kill(first, 'SIGKILL');
      // More shortages than the five failed starts that would make it FATAL.
      await waitFor(() => (shortages()?.length ?? 0) >= 7, 30_000);
    } finally {
      execFileSync('prlimit', ['--pid', String(supervisor), `--nofile=${soft}:`]);
    }
    const alpha = await waitFor(async () => {
      const c = await child(h, 'alpha');
      return c.state === 'RUNNING' ? c : undefined;
    }, 20_000);
    expect(alpha.restarts).toBe(1);
    expect(readFileSync(log, 'utf8')).not.toContain('is FATAL');
    const client = await h.client('alpha');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'back' } })).content).toEqual([
      { type: 'text', text: 'back' },
    ]);
  });
});

describe('mcpServers names that clash', () => {
  it('refuses a reserved name and an enabled built-in child name in config --check and start, saying what to do', async () => {
    const h = harness({});
    h.writeConfig({
      children: { ...NO_BUILTINS, memory: {} },
      mcpServers: { control: fixture(), memory: fixture(), ok: fixture() },
    });
    const check = await h.cli(['config', '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('2 problem(s)');
    expect(check.stderr).toContain(
      '$.mcpServers.control: "control" is reserved for the control socket (control.sock) (give this server another name, e.g. "control-server")',
    );
    expect(check.stderr).toContain(
      '$.mcpServers.memory: "memory" is the name of the built-in memory child, which is enabled (set children.memory.enabled to false to run this server instead of the built-in, or give this server another name)',
    );
    const start = await h.cli(['start']);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('$.mcpServers.control');
    expect(start.stderr).toContain('$.mcpServers.memory');
    expect((await h.cli(['status'])).code).toBe(3);

    h.writeConfig({ children: NO_BUILTINS, mcpServers: { omnimind: fixture(), supervisor: fixture() } });
    const more = await h.cli(['config', '--check']);
    expect(more.code).toBe(1);
    expect(more.stderr).toContain('"omnimind" is reserved for the endpoint that serves every child');
    expect(more.stderr).toContain(`"supervisor" is reserved for the supervisor's own log`);

    // Replacing a built-in explicitly: once it is disabled, its name goes to the server configured under it.
    h.writeConfig({ children: NO_BUILTINS, mcpServers: { memory: fixture() } });
    expect((await h.cli(['config', '--check'])).code).toBe(0);
    expect((await h.cli(['start'])).code).toBe(0);
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout) as {
      children: Array<{ name: string; state: string; builtin: boolean }>;
    };
    expect(status.children.map((c) => [c.name, c.state, c.builtin])).toEqual([['memory', 'RUNNING', false]]);
  });
});

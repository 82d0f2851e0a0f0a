import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, isRunning, NO_BUILTINS, runCli, waitFor } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

function harness(mcpServers: Record<string, unknown>, extra: Record<string, unknown> = {}): Harness {
  const h = createHarness({ children: NO_BUILTINS, mcpServers, ...extra });
  harnesses.push(h);
  return h;
}

interface StatusJson {
  supervisor: { pid: number; version: string; systemd: boolean; home: string; runtimeDir: string };
  children: Array<{
    name: string;
    state: string;
    pid: number | null;
    restarts: number;
    socket: string;
    logError: string | null;
    lastExit: { reason: string } | null;
  }>;
  cache: { hitRate: number };
  limiter: { rps: number; queued: number };
}

async function statusJson(h: Harness): Promise<StatusJson> {
  const result = await h.cli(['status', '--json']);
  return JSON.parse(result.stdout) as StatusJson;
}

describe('supervisor lifecycle', () => {
  it('starts in the background, reports status, and stops', async () => {
    const h = harness({ alpha: fixture(), beta: fixture() });
    const notRunning = await h.cli(['status']);
    expect(notRunning.code).toBe(3);
    const started = await h.cli(['start']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/alpha\s+RUNNING/);
    const status = await statusJson(h);
    expect(status.children.map((c) => [c.name, c.state])).toEqual([
      ['alpha', 'RUNNING'],
      ['beta', 'RUNNING'],
    ]);
    expect(status.supervisor.version).toBe('0.1.0');
    expect(status.limiter).toHaveProperty('rps');
    expect(status.cache).toHaveProperty('hitRate');
    const again = await h.cli(['start']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already running');
    expect((await h.cli(['status', 'alpha'])).code).toBe(0);
    expect((await h.cli(['status', 'nosuch'])).code).toBe(1);
    const stopped = await h.cli(['stop']);
    expect(stopped.code).toBe(0);
    expect(isRunning(status.supervisor.pid)).toBe(false);
    for (const child of status.children) expect(isRunning(child.pid!)).toBe(false);
    expect(existsSync(h.socket('alpha'))).toBe(false);
    expect((await h.cli(['stop'])).code).toBe(0);
  });

  it('restarts a crashed child with growing delays and marks a crash loop FATAL until started again', async () => {
    const h = harness({});
    const marker = join(h.dir, 'crash');
    writeFileSync(marker, '');
    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: { loop: fixture(`--crash-on-start-if=${marker}`), ok: fixture() },
    });
    const started = await h.cli(['start']);
    expect(started.code).toBe(1);
    expect(started.stderr).toContain('child "loop" failed to start: FATAL');
    expect(started.stderr).toContain('fixture: crashing on start');
    const log = readFileSync(join(h.home, 'logs', 'supervisor.log'), 'utf8');
    const delays = [...log.matchAll(/child "loop" restarting in (\d+) ms/g)].map((m) => Number(m[1]));
    expect(delays).toEqual([100, 150, 225, 338]);
    const status = await statusJson(h);
    const loop = status.children.find((c) => c.name === 'loop')!;
    expect(loop.state).toBe('FATAL');
    expect(loop.restarts).toBe(4);
    expect(loop.lastExit?.reason).toBe('crashed');
    expect((await h.cli(['status'])).code).toBe(3);
    rmSync(marker);
    const cleared = await h.cli(['start', 'loop']);
    expect(cleared.code).toBe(0);
    expect((await statusJson(h)).children.find((c) => c.name === 'loop')?.state).toBe('RUNNING');
  });

  it('stops a child that ignores SIGTERM together with its grandchild', async () => {
    const h = harness({ stubborn: fixture('--ignore-sigterm', '--grandchild') });
    expect((await h.cli(['start'])).code).toBe(0);
    const child = (await statusJson(h)).children[0]!;
    const logFile = join(h.home, 'logs', 'stubborn.log');
    const grandchild = Number((await waitFor(() => /grandchild (\d+)/.exec(readFileSync(logFile, 'utf8'))))[1]);
    expect(isRunning(grandchild)).toBe(true);
    const stopped = await h.cli(['stop', 'stubborn', '--timeout', '1']);
    expect(stopped.code).toBe(0);
    expect(isRunning(child.pid!)).toBe(false);
    expect(isRunning(grandchild)).toBe(false);
    expect((await statusJson(h)).children[0]?.state).toBe('STOPPED');
  });

  it('leaves no orphan and no stale socket after the supervisor is SIGKILLed', async () => {
    const h = harness({ stubborn: fixture('--ignore-sigterm', '--grandchild') });
    expect((await h.cli(['start'])).code).toBe(0);
    const before = await statusJson(h);
    const oldChild = before.children[0]!.pid!;
    const logFile = join(h.home, 'logs', 'stubborn.log');
    const grandchild = Number((await waitFor(() => /grandchild (\d+)/.exec(readFileSync(logFile, 'utf8'))))[1]);
    process.kill(before.supervisor.pid, 'SIGKILL');
    await waitFor(() => !isRunning(before.supervisor.pid));
    expect(isRunning(oldChild)).toBe(true);
    expect(existsSync(h.socket('stubborn'))).toBe(true);
    const restarted = await h.cli(['start']);
    expect(restarted.code).toBe(0);
    expect(isRunning(oldChild)).toBe(false);
    expect(isRunning(grandchild)).toBe(false);
    const after = await statusJson(h);
    expect(after.children[0]?.state).toBe('RUNNING');
    expect(after.children[0]?.pid).not.toBe(oldChild);
    const client = await h.client('stubborn');
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
  });

  it('lets exactly one of two racing starts run a supervisor, and both succeed', async () => {
    const h = harness({ alpha: fixture() });
    const [a, b] = await Promise.all([
      h.cli(['start'], { timeoutMs: 90_000 }),
      h.cli(['start'], { timeoutMs: 90_000 }),
    ]);
    const logTail = () => readFileSync(join(h.home, 'logs', 'supervisor.log'), 'utf8').slice(-4000);
    expect(a.code, `${a.stderr}\n${logTail()}`).toBe(0);
    expect(b.code, `${b.stderr}\n${logTail()}`).toBe(0);
    const pid = (await statusJson(h)).supervisor.pid;
    const log = readFileSync(join(h.home, 'logs', 'supervisor.log'), 'utf8');
    expect(log.match(/supervisor [\d.]+ started/g)).toHaveLength(1);
    expect(isRunning(pid)).toBe(true);
  }, 200_000);

  it('removes a stale socket file left on disk and starts', async () => {
    const h = harness({ alpha: fixture() });
    mkdirSync(h.runtimeDir, { recursive: true, mode: 0o700 });
    await new Promise<void>((resolve) => {
      const leaver = spawn(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(h.socket('alpha'))}, () => process.exit(0))`,
      ]);
      leaver.on('exit', () => resolve());
    });
    expect(existsSync(h.socket('alpha'))).toBe(true);
    expect((await h.cli(['start'])).code).toBe(0);
    const client = await h.client('alpha');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
  });

  it('keeps a child running when its log cannot be written, and reports it', async () => {
    const h = harness({ alpha: fixture() });
    mkdirSync(join(h.home, 'logs'), { recursive: true });
    symlinkSync('/dev/full', join(h.home, 'logs', 'alpha.log'));
    expect((await h.cli(['start'])).code).toBe(0);
    const child = await waitFor(async () => {
      const c = (await statusJson(h)).children[0]!;
      return c.logError ? c : undefined;
    });
    expect(child.state).toBe('RUNNING');
    expect(child.logError).toMatch(/ENOSPC|no space/i);
    const client = await h.client('alpha');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).content).toEqual([
      { type: 'text', text: 'still here' },
    ]);
    expect((await h.cli(['status'])).stdout).toContain('cannot be written');
  });

  it('drains a child that floods stderr and rotates its log within the size cap', async () => {
    const h = harness({ loud: fixture('--flood-stderr') }, { logs: { maxBytes: 1024 * 1024, keep: 2 } });
    expect((await h.cli(['start'])).code).toBe(0);
    const log = join(h.home, 'logs', 'loud.log');
    await waitFor(() => existsSync(`${log}.2`));
    const client = await h.client('loud');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'heard' } })).content).toEqual([
      { type: 'text', text: 'heard' },
    ]);
    expect((await statusJson(h)).children[0]?.restarts).toBe(0);
    // Stopped first, so no rotation runs while the files are measured.
    expect((await h.cli(['stop', 'loud', '--timeout', '1'])).code).toBe(0);
    expect(existsSync(`${log}.3`)).toBe(false);
    for (const file of [log, `${log}.1`, `${log}.2`]) expect(statSync(file).size).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it('lists every problem of an invalid config', async () => {
    const h = harness({});
    h.writeConfig({ children: { python: { timeoutMs: -5 } }, cache: { l1MaxBytes: 'big' }, colour: true });
    const check = await h.cli(['config', '--check']);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('3 problem(s)');
    expect(check.stderr).toContain('$.children.python.timeoutMs');
    expect(check.stderr).toContain('$.cache.l1MaxBytes');
    expect(check.stderr).toContain('"colour"');
    const start = await h.cli(['start']);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain('$.cache.l1MaxBytes');
  });

  it('explains a runtime path too long for a unix socket', async () => {
    const h = harness({ alpha: fixture() });
    const longDir = join(h.dir, 'x'.repeat(200));
    const long = await runCli(['start'], { ...h.env, OMNIMIND_RUNTIME_DIR: longDir }, h.dir);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('OMNIMIND_RUNTIME_DIR');
    expect(long.stderr).toContain("kernel's limit");
    expect(long.stderr).not.toContain('    at ');
  });
});

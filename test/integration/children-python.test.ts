import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/children/python/index.js';
import { builtinChildEntry } from '../../src/config/index.js';
import { waitFor } from '../helpers/harness.js';

const MAIN = builtinChildEntry('python');

/** run_python's answer: the run's result and the timeout that applied. */
interface RunAnswer extends RunResult {
  timeoutMs: number;
}

interface Info {
  python: { version: string; executable: string } | null;
  available: boolean;
  problem: string | null;
  isolation: { networkIsolated: boolean; processes: string; user: string; filesystem: string };
  limits: { timeoutMs: number; memoryMbPerProcess: number; processes: number };
}

let dir: string;
let extra: Client[] = [];
let client: Client;
/** The python child process behind each client. */
const childPids = new Map<Client, number>();

async function start(config: object, env: Record<string, string> = {}, asUser: string[] = []): Promise<Client> {
  const [command, ...args] = [...asUser, process.execPath, MAIN];
  const transport = new StdioClientTransport({
    command: command!,
    args,
    env: {
      ...getDefaultEnvironment(),
      ...env,
      OMNIMIND_DATA_DIR: join(dir, 'data'),
      OMNIMIND_CHILD_CONFIG: JSON.stringify(config),
    },
  });
  const started = new Client({ name: 'python-test', version: '1.0.0' });
  await started.connect(transport);
  childPids.set(started, transport.pid ?? -1);
  return started;
}

async function call(target: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await target.callTool({ name, arguments: args })) as CallToolResult;
}

async function runCode(code: string, args: Record<string, unknown> = {}, target = client): Promise<RunAnswer> {
  const result = await call(target, 'run_python', { code, ...args });
  const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
  expect(result.isError, text).toBeFalsy();
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return result.structuredContent as unknown as RunAnswer;
}

async function info(target = client): Promise<Info> {
  return (await call(target, 'python_info')).structuredContent as unknown as Info;
}

/** Live processes for which `test` holds, given their /proc directory. */
function processesWhere(test: (proc: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return test(`/proc/${pid}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Processes in the PID namespace a run named (`pid:[inode]`): every process a run started is in it. */
function processesInNamespace(namespace: string): number[] {
  expect(namespace).not.toBe(readlinkSync('/proc/self/ns/pid'));
  return processesWhere((proc) => readlinkSync(`${proc}/ns/pid`) === namespace);
}

/** Processes whose real uid is `uid`. */
function processesOfUid(uid: number): number[] {
  return processesWhere((proc) => uidOf(proc) === uid);
}

function uidOf(proc: string): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`${proc}/status`, 'utf8'))?.[1]);
}

/** Live processes whose command line contains `needle` (arguments joined by NUL). */
function processesRunning(needle: string): number[] {
  return processesWhere((proc) => readFileSync(`${proc}/cmdline`, 'latin1').includes(needle));
}

/** What the command line of a run's own process (not its sandbox setup) ends with. */
const RUN_COMMAND = '-X\0utf8\0main.py\0';

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * Host pids of the runs of `target`'s child going on now (each under the child's unshare), once there is at least
 * one; other python children on the machine may be running code meanwhile.
 */
function waitForRuns(target = client): Promise<number[]> {
  const child = childPids.get(target);
  return waitFor(() => {
    const runs = processesRunning(RUN_COMMAND).filter((pid) => {
      try {
        return parentOf(parentOf(pid)) === child;
      } catch {
        return false;
      }
    });
    return runs.length > 0 ? runs : null;
  });
}

/** Code that prints the run's PID namespace first, so the test can find every process of the run. */
const PRINT_NAMESPACE = 'import os\nprint(os.readlink("/proc/self/ns/pid"), flush=True)\n';

/** The PID namespace a run printed on its first line. */
function namespaceOf(answer: RunAnswer): string {
  const namespace = answer.stdout.split('\n')[0] ?? '';
  expect(namespace).toMatch(/^pid:\[\d+\]$/);
  return namespace;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-python-test-'));
  client = await start({ timeoutMs: 3_000, memoryMb: 256 }, { OMNIMIND_TEST_SECRET: 'do-not-leak' });
});

afterEach(async () => {
  await Promise.all(extra.map((started) => started.close()));
  extra = [];
});

afterAll(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('python child', () => {
  it('lists run_python and python_info with truthful annotations', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(['python_info', 'run_python']);
    const run = byName.get('run_python');
    expect(run?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
    expect(run?.annotations?.openWorldHint).toBe(!(await info()).isolation.networkIsolated);
    expect(run?.inputSchema.required).toEqual(['code']);
    expect(run?.outputSchema?.properties).toHaveProperty('timedOut');
    expect(byName.get('python_info')?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
  });

  it('reports the interpreter, the isolation in force and the limits', async () => {
    const report = await info();
    expect(report.available).toBe(true);
    const version = await runCode('import platform; print(platform.python_version())');
    expect(report.python?.version).toBe(version.stdout.trim());
    expect(report.limits).toMatchObject({ timeoutMs: 3_000, memoryMbPerProcess: 256, processes: 32 });
    if (process.getuid?.() === 0) expect(report.isolation.user).toContain('a uid of its own');
  });

  it('runs code with stdin, exit codes and stderr, in a scrubbed environment and a directory removed afterwards', async () => {
    const hello = await runCode('import sys; print("hi", sys.stdin.read().upper())', { stdin: 'abc' });
    expect(hello).toMatchObject({ stdout: 'hi ABC\n', stderr: '', exitCode: 0, timedOut: false, truncated: false });
    expect(hello.durationMs).toBeGreaterThanOrEqual(0);

    const failed = await runCode('import sys\nprint("out")\nsys.exit(3)');
    expect(failed).toMatchObject({ stdout: 'out\n', exitCode: 3, timedOut: false });
    const raised = await runCode('raise ValueError("boom")');
    expect(raised.exitCode).toBe(1);
    expect(raised.stderr).toContain('ValueError: boom');

    const env = await runCode(
      'import os, sys, json; print(os.getcwd()); print(json.dumps(sorted(os.environ))); print(sys.flags.isolated)',
    );
    const [cwd, names, isolated] = env.stdout.trim().split('\n');
    expect(JSON.parse(names ?? '[]')).toEqual(['HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONIOENCODING']);
    expect(env.stdout).not.toContain('do-not-leak');
    expect(isolated).toBe('1');
    if ((await info()).isolation.filesystem.startsWith('own mount namespace')) expect(cwd).toBe('/tmp');
    else {
      expect(cwd).toMatch(/omnimind-python-/);
      expect(existsSync(cwd ?? '')).toBe(false);
    }

    const first = await runCode('open("left.txt", "w").write("x"); import os; print(os.getcwd())');
    const second = await runCode('import os; print(os.path.exists("left.txt"), os.getcwd())');
    expect(second.stdout.startsWith('False')).toBe(true);
    if (cwd !== '/tmp') expect(second.stdout).not.toContain(first.stdout.trim());
  });

  it('caps a call timeout at the configured one', async () => {
    const answer = await runCode('print(1)', { timeoutMs: 600_000 });
    expect(answer.timeoutMs).toBe(3_000);
    expect((await runCode('print(1)', { timeoutMs: 1_000 })).timeoutMs).toBe(1_000);
  });

  it('kills an infinite loop with its whole process group, including processes it started', async () => {
    const answer = await runCode(
      `${PRINT_NAMESPACE}import subprocess\nsubprocess.Popen(["sleep", "300"])\nwhile True: pass`,
      { timeoutMs: 1_500 },
    );
    expect(answer.timedOut).toBe(true);
    expect(answer.exitCode).toBeNull();
    expect(answer.signal).toBe('SIGKILL');
    expect(processesInNamespace(namespaceOf(answer))).toEqual([]);
  });

  it('also ends a process that left the process group', async () => {
    const answer = await runCode(
      `${PRINT_NAMESPACE}import subprocess, time\nsubprocess.Popen(["sleep", "300"], start_new_session=True)\ntime.sleep(300)`,
      { timeoutMs: 1_000 },
    );
    expect(answer.timedOut).toBe(true);
    expect(processesInNamespace(namespaceOf(answer))).toEqual([]);
  });

  it('kills a run whose call the client cancels', async () => {
    const marker = (300 + Math.random()).toFixed(6);
    const controller = new AbortController();
    const pending = client.callTool(
      { name: 'run_python', arguments: { code: `import subprocess\nsubprocess.run(["sleep", "${marker}"])` } },
      undefined,
      { signal: controller.signal },
    );
    expect(await waitFor(() => processesRunning(`sleep\0${marker}`).length > 0)).toBe(true);
    controller.abort();
    await expect(pending).rejects.toThrow();
    expect(await waitFor(() => processesRunning(`sleep\0${marker}`).length === 0)).toBe(true);
  });

  it('contains a fork bomb and stays usable', async () => {
    const counted = await runCode(
      [
        'import os, time',
        'made = 0',
        'for _ in range(200):',
        '    try:',
        '        if os.fork() == 0:',
        '            time.sleep(30)',
        '            os._exit(0)',
        '        made += 1',
        '    except OSError:',
        '        break',
        'print(made)',
      ].join('\n'),
    );
    expect(counted.timedOut).toBe(false);
    // The run's own process takes one of the 32.
    expect(Number(counted.stdout.trim())).toBe(31);

    const bomb = await runCode(
      `${PRINT_NAMESPACE}while True:\n    try:\n        os.fork()\n    except OSError:\n        pass`,
      { timeoutMs: 1_500 },
    );
    expect(bomb.timedOut).toBe(true);
    expect(processesInNamespace(namespaceOf(bomb))).toEqual([]);
    expect((await runCode('print("alive")')).stdout).toBe('alive\n');
  });

  it('counts forks exactly, whatever else runs as nobody meanwhile', async () => {
    // Processes of the identity runs used to share: some exist when the run starts and are gone when it forks.
    const others: ChildProcess[] = Array.from({ length: 40 }, () =>
      spawn('sleep', ['60'], { uid: 65_534, gid: 65_534, stdio: 'ignore' }),
    );
    try {
      await waitFor(() => processesOfUid(65_534).length >= 40);
      const pending = runCode(
        `${PRINT_NAMESPACE}import time\ntime.sleep(1)\nmade = 0\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n        made += 1\n    except OSError:\n        break\nprint(os.getuid(), made)`,
      );
      await waitForRuns();
      for (const other of others) other.kill('SIGKILL');
      const answer = await pending;
      expect(answer.timedOut).toBe(false);
      const [uid, made] = (answer.stdout.split('\n')[1] ?? '').split(' ').map(Number);
      expect(made).toBe(31);
      if (process.getuid?.() === 0) expect(processesOfUid(uid ?? -1)).toEqual([]);
      expect(processesInNamespace(namespaceOf(answer))).toEqual([]);
      expect((await runCode('print("alive")')).stdout).toBe('alive\n');
    } finally {
      for (const other of others) other.kill('SIGKILL');
    }
  });

  it('keeps concurrent runs from seeing each other, and leaves nothing of either behind', async () => {
    const secret = `secret-${Math.random()}`;
    // Runs that last until the test ends them, not until a timeout, however slow the machine.
    const target = await start({ timeoutMs: 60_000, memoryMb: 256 });
    extra.push(target);
    // Run A keeps a data file, its stdin and its own command line while B looks for them, and tries to leave files
    // in every shared writable place.
    const first = runCode(
      [
        'import os, sys, time',
        `open("data.txt", "w").write("${secret}")`,
        'for place in ("/var/tmp", "/dev/shm", "/run/lock", "/etc"):',
        '    try:',
        `        open(place + "/left-${secret}", "w").write("x")`,
        '    except OSError:',
        '        pass',
        'print(os.getuid(), os.getpid(), flush=True)',
        'sys.stdin.read()',
        'time.sleep(60)',
      ].join('\n'),
      { stdin: secret },
      target,
    );
    const [hostPid] = await waitForRuns(target);
    const hostUid = uidOf(`/proc/${hostPid}`);
    // A's directory, told from other runs' (other python children may run meanwhile) by its owner.
    const runDirs = readdirSync(tmpdir()).filter(
      (name) => /^omnimind-python-(?!test-)/.test(name) && statSync(join(tmpdir(), name)).uid === hostUid,
    );
    await waitFor(() => runDirs.some((name) => existsSync(join(tmpdir(), name, 'data.txt'))));
    const targets = [
      `/proc/${hostPid}/cmdline`,
      `/proc/${hostPid}/environ`,
      `/proc/${hostPid}/fd/0`,
      ...runDirs.flatMap((name) => [join(tmpdir(), name, 'main.py'), join(tmpdir(), name, 'data.txt')]),
      ...['/var/tmp', '/dev/shm', '/tmp'].map((place) => `${place}/left-${secret}`),
    ];
    const second = await runCode(
      [
        'import json, os, sys',
        `targets = json.loads(${JSON.stringify(JSON.stringify(targets))})`,
        'found = []',
        'for target in targets:',
        '    try:',
        '        with open(target, "rb") as handle:',
        '            found.append([target, handle.read(200).decode("latin1")])',
        '    except OSError:',
        '        pass',
        'print(json.dumps(found))',
        'print(json.dumps(sorted(os.listdir("/tmp"))))',
        'print(len([entry for entry in os.listdir("/proc") if entry.isdigit()]))',
        'print(os.getuid())',
        'import ctypes',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'print(libc.umount2(b"/tmp", 2), libc.mount(None, b"/", None, 32 | 4096, None))',
        'print(sorted({line.split()[1] for line in open("/proc/self/status") if line.startswith("Cap")}))',
      ].join('\n'),
      {},
      target,
    );
    expect(runDirs.length).toBeGreaterThan(0);
    const [found, tmp, processes, secondUid, mounts, capabilities] = second.stdout.trim().split('\n');
    // It can neither uncover what its mounts hide nor make them writable: it holds no capability at all.
    expect(mounts).toBe('-1 -1');
    expect(capabilities).toBe("['0000000000000000']");
    expect(second.stdout).not.toContain(secret);
    expect(JSON.parse(found ?? '')).toEqual([]);
    expect(JSON.parse(tmp ?? '')).toEqual(['main.py']);
    // Only B itself is in B's /proc.
    expect(Number(processes)).toBe(1);

    // A was still there, holding all of it, when B finished looking; now it ends.
    process.kill(hostPid ?? -1, 'SIGKILL');
    const answer = await first;
    const [firstUid] = answer.stdout.split(' ').map(Number);
    expect(answer.timedOut).toBe(false);
    if (process.getuid?.() === 0) {
      expect(firstUid).toBe(hostUid);
      expect(Number(secondUid)).not.toBe(firstUid);
      for (const uid of [hostUid, Number(secondUid)]) expect(processesOfUid(uid)).toEqual([]);
    }
    for (const name of runDirs) expect(existsSync(join(tmpdir(), name))).toBe(false);
    for (const place of ['/var/tmp', '/dev/shm', '/run/lock', '/etc', tmpdir()]) {
      expect(readdirSync(place).filter((name) => name.includes(secret))).toEqual([]);
    }
  });

  it('ends a run and removes its directory when the child stops in the middle of it', async () => {
    const stopping = await start({ timeoutMs: 3_000, memoryMb: 256 });
    const pending = stopping
      .callTool({
        name: 'run_python',
        arguments: { code: 'open("data.txt", "w").write("x")\nimport time\ntime.sleep(60)' },
      })
      .catch(() => undefined);
    const [hostPid] = await waitForRuns(stopping);
    const uid = uidOf(`/proc/${hostPid}`);
    const runDir = readdirSync(tmpdir())
      .map((name) => join(tmpdir(), name))
      .find((path) => path.includes('omnimind-python-') && statSync(path).uid === uid);
    expect(runDir).toBeDefined();
    await stopping.close();
    await pending;
    const ownUid = process.getuid?.() === 0;
    expect(await waitFor(() => !existsSync(runDir ?? '') && (!ownUid || processesOfUid(uid).length === 0))).toBe(true);
  });

  it('refuses a 1 GB allocation without harming the child', async () => {
    const answer = await runCode('buffer = bytearray(1024 ** 3)\nprint("allocated")');
    expect(answer.stdout).not.toContain('allocated');
    expect(answer.exitCode === 1 || answer.signal !== null).toBe(true);
    if (answer.exitCode === 1) expect(answer.stderr).toContain('MemoryError');
    expect((await runCode('print(2 + 2)')).stdout).toBe('4\n');
  });

  it('truncates 100 MB of output to the cap and drains the rest', async () => {
    const answer = await runCode(
      'import sys\nchunk = "x" * 1048575 + "\\n"\nfor _ in range(100): sys.stdout.write(chunk)\nprint("done", file=sys.stderr)',
      { timeoutMs: 3_000 },
    );
    expect(answer.truncated).toBe(true);
    expect(answer.timedOut).toBe(false);
    expect(answer.exitCode).toBe(0);
    expect(answer.stderr).toBe('done\n');
    expect(answer.stdout.length).toBeLessThanOrEqual(1024 * 1024);
    expect(answer.stdout.length).toBeGreaterThan(512 * 1024);
  });

  it('blocks the network when it claims to', async () => {
    const report = await info();
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as { port: number }).port;
    try {
      const answer = await runCode(
        `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    print("connected")\nexcept OSError as error:\n    print("blocked", error.errno)`,
      );
      if (report.isolation.networkIsolated) {
        expect(answer.stdout).toMatch(/^blocked/);
        expect(connections).toBe(0);
      } else {
        expect(answer.stdout).toBe('connected\n');
      }
    } finally {
      server.close();
    }
  });

  it('answers every bad argument with a tool error', async () => {
    const cases: Record<string, unknown>[] = [
      {},
      { code: 42 },
      { code: 'print(1)', timeoutMs: -5 },
      { code: 'print(1)', timeoutMs: 1.5 },
      { code: 'print(1)', stdin: 7 },
      { code: '#'.repeat(1024 * 1024 + 1) },
    ];
    for (const args of cases) {
      const result = await call(client, 'run_python', args);
      expect(result.isError, JSON.stringify(args).slice(0, 80)).toBe(true);
    }
    const tooLong = await call(client, 'run_python', { code: '#'.repeat(1024 * 1024 + 1) });
    expect(JSON.stringify(tooLong.content)).toContain('Expected `code` to be at most 1048576 bytes');
  });

  it('keeps the same limits when omnimind runs as an ordinary user', async () => {
    // As root, the child itself is started as uid 65534, so the runs take the ordinary-user path.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const target = asUser.length > 0 ? await start({ timeoutMs: 3_000, memoryMb: 256 }, {}, asUser) : client;
    if (target !== client) extra.push(target);
    const report = await info(target);
    expect(report.available).toBe(true);
    expect(report.isolation.user).not.toContain('uid 65534');
    const forks = await runCode(
      'import os, time\nmade = 0\nfor _ in range(100):\n    try:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n        made += 1\n    except OSError:\n        break\nprint(made)',
      {},
      target,
    );
    expect(forks.timedOut).toBe(false);
    // unshare shares the run's user namespace, so it and the run's own process take two of the 32.
    expect(Number(forks.stdout.trim())).toBe(report.isolation.user.includes('user namespace') ? 30 : 31);
    const memory = await runCode('buffer = bytearray(1024 ** 3)', {}, target);
    expect(memory.stderr).toContain('MemoryError');
    const network = await runCode(
      'import socket\ntry:\n    socket.create_connection(("127.0.0.1", 9), timeout=2)\nexcept OSError as error:\n    print(error.errno)',
      {},
      target,
    );
    if (report.isolation.networkIsolated) expect(network.stdout.trim()).toBe('101');
  });

  it('says clearly when the configured interpreter cannot run', async () => {
    const broken = await start({ python: join(dir, 'no-such-python') });
    extra.push(broken);
    const report = await info(broken);
    expect(report.available).toBe(false);
    expect(report.problem).toContain('no-such-python');
    const result = await call(broken, 'run_python', { code: 'print(1)' });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('Python cannot run here');
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..');
const receiverScript = join(repo, 'test', 'fixtures', 'notify-receiver.py');
const systemdIndex = join(repo, 'src', 'systemd', 'index.ts');
/** Polling bound for datagrams still in flight after the script ended. */
const ARRIVAL_WAIT_MS = 10_000;

interface Datagram {
  message: string;
  pid: number | null;
  monotonicMs: number;
}

interface Receiver {
  datagrams: Datagram[];
  process: ChildProcess;
}

let dir: string;
let receivers: Receiver[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-sdnotify-'));
  receivers = [];
});
afterEach(async () => {
  for (const receiver of receivers) {
    if (receiver.process.exitCode === null) {
      receiver.process.kill('SIGTERM');
      await once(receiver.process, 'close');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the NOTIFY_SOCKET stand-in and resolves once it is bound. */
async function startReceiver(socket: string): Promise<Receiver> {
  const child = spawn('python3', [receiverScript, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const receiver: Receiver = { datagrams: [], process: child };
  receivers.push(receiver);
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolveBound, reject) => {
    child.once('error', reject);
    lines.on('line', (line) => {
      const record = JSON.parse(line) as Datagram | { listening: string };
      if ('listening' in record) resolveBound();
      else receiver.datagrams.push(record);
    });
  });
  return receiver;
}

/** Runs a TypeScript module body with the systemd module imported; resolves with its exit code and JSON output. */
async function runScript(
  body: string,
  env: NodeJS.ProcessEnv,
): Promise<{ exitCode: number | null; output: Record<string, unknown> }> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(
    file,
    `import { spawnSync } from 'node:child_process';\n` +
      `import { setTimeout as sleep } from 'node:timers/promises';\n` +
      `import { createNotifier, startWatchdog } from ${JSON.stringify(systemdIndex)};\n` +
      `const output: Record<string, unknown> = {};\n${body}\nconsole.log(JSON.stringify(output));\n`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    stdout += text;
  });
  const [exitCode] = (await once(child, 'close')) as [number | null];
  const last = stdout.trim().split('\n').pop() ?? '{}';
  return { exitCode, output: JSON.parse(last) as Record<string, unknown> };
}

/** Waits until a datagram satisfies `predicate` (delivery is asynchronous to the sender's exit). */
async function waitFor(receiver: Receiver, predicate: (datagram: Datagram) => boolean): Promise<void> {
  for (let waited = 0; waited < ARRIVAL_WAIT_MS; waited += 20) {
    if (receiver.datagrams.some(predicate)) return;
    await sleep(20);
  }
}

/** The notifications as the service manager reads them: barriers dropped, MAINPID= lines set aside. */
function notifications(receiver: Receiver): string[] {
  return receiver.datagrams
    .map((datagram) =>
      datagram.message
        .split('\n')
        .filter((line) => !line.startsWith('MAINPID='))
        .join('\n'),
    )
    .filter((message) => message !== 'BARRIER=1');
}

const lifecycle = (transport: string) => `
const notifier = createNotifier(process.env, { transport: '${transport}' });
const watchdog = startWatchdog(notifier, process.env);
output.pid = process.pid;
output.intervalMs = watchdog?.intervalMs;
output.childSees = spawnSync('sh', ['-c', 'echo "\${NOTIFY_SOCKET:-none} \${WATCHDOG_USEC:-none}"'], { encoding: 'utf8' }).stdout.trim();
await notifier.ready('serving 2 children');
await notifier.status('2 clients');
await sleep(watchdog.intervalMs * 3.5);
watchdog.stop();
await notifier.stopping();
await notifier.close();
`;

describe('sd_notify through a real NOTIFY_SOCKET', () => {
  for (const transport of ['python3', 'systemd-notify']) {
    it(`sends READY, STATUS, WATCHDOG and STOPPING in order (${transport})`, async () => {
      const socket = join(dir, 'notify');
      const receiver = await startReceiver(socket);
      const { exitCode, output } = await runScript(lifecycle(transport), {
        NOTIFY_SOCKET: socket,
        WATCHDOG_USEC: '300000',
      });
      expect(exitCode).toBe(0);
      expect(output.intervalMs).toBe(150);
      expect(output.childSees).toBe('none none');
      await waitFor(receiver, (datagram) => datagram.message.includes('STOPPING=1'));

      const sent = notifications(receiver);
      expect(sent[0]).toBe('READY=1\nSTATUS=serving 2 children');
      expect(sent[1]).toBe('STATUS=2 clients');
      expect(sent.at(-1)).toBe('STOPPING=1');
      const pings = sent.slice(2, -1);
      expect(pings.length).toBeGreaterThanOrEqual(2);
      expect(pings.every((message) => message === 'WATCHDOG=1')).toBe(true);
      if (transport === 'systemd-notify') {
        expect(receiver.datagrams[0]?.message).toContain(`MAINPID=${output.pid}`);
      }
    });
  }

  it('reaches an abstract NOTIFY_SOCKET', async () => {
    const name = `@omnimind-test-${process.pid}-${Date.now()}`;
    const receiver = await startReceiver(name);
    const { exitCode } = await runScript('const n = createNotifier(); await n.ready(); await n.close();', {
      NOTIFY_SOCKET: name,
    });
    expect(exitCode).toBe(0);
    await waitFor(receiver, (datagram) => datagram.message === 'READY=1');
    expect(notifications(receiver)).toEqual(['READY=1']);
  });

  it('never keeps the process alive: a script that forgets close() still exits, its message delivered', async () => {
    const socket = join(dir, 'notify');
    const receiver = await startReceiver(socket);
    const { exitCode } = await runScript("await createNotifier(process.env, { transport: 'python3' }).ready('up');", {
      NOTIFY_SOCKET: socket,
    });
    expect(exitCode).toBe(0);
    await waitFor(receiver, (datagram) => datagram.message.startsWith('READY=1'));
    expect(notifications(receiver)).toEqual(['READY=1\nSTATUS=up']);
  });

  it('misses watchdog pings while the event loop is blocked', async () => {
    const socket = join(dir, 'notify');
    const receiver = await startReceiver(socket);
    const busyMs = 1_500;
    // The loop blocks only once pings are seen arriving, however long the helper took to start on a busy machine.
    const go = join(dir, 'go');
    const script = runScript(
      `
import { existsSync } from 'node:fs';
const notifier = createNotifier();
const watchdog = startWatchdog(notifier);
await notifier.ready();
for (let waited = 0; !existsSync(${JSON.stringify(go)}) && waited < 30_000; waited += 20) await sleep(20);
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;
output.blockStart = now();
while (now() - output.blockStart < ${busyMs}) {}
output.blockEnd = now();
await sleep(watchdog.intervalMs * 6);
watchdog.stop();
await notifier.stopping();
await notifier.close();
`,
      { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '200000' },
    );
    for (let waited = 0; waited < 30_000; waited += 20) {
      if (receiver.datagrams.filter((datagram) => datagram.message === 'WATCHDOG=1').length >= 3) break;
      await sleep(20);
    }
    writeFileSync(go, '');
    const { exitCode, output } = await script;
    expect(exitCode).toBe(0);
    await waitFor(receiver, (datagram) => datagram.message === 'STOPPING=1');

    // process.hrtime and Python's time.monotonic both read CLOCK_MONOTONIC, so the times compare directly.
    const blockStart = output.blockStart as number;
    const blockEnd = output.blockEnd as number;
    const pings = receiver.datagrams.filter((datagram) => datagram.message === 'WATCHDOG=1');
    const before = pings.filter((ping) => ping.monotonicMs < blockStart);
    const during = pings.filter((ping) => ping.monotonicMs >= blockStart && ping.monotonicMs < blockEnd);
    const after = pings.filter((ping) => ping.monotonicMs >= blockEnd);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeGreaterThanOrEqual(1);
    // A live loop would have pinged ~15 times in 1.5 s; at most one ping written just before the block may trail in.
    expect(during.length).toBeLessThanOrEqual(1);
    const gaps = pings.slice(1).map((ping, index) => ping.monotonicMs - (pings[index]?.monotonicMs ?? 0));
    // systemd (WATCHDOG_USEC = 200 ms) would have declared this service hung.
    expect(Math.max(...gaps)).toBeGreaterThan(200);
  });
});

import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHarness, fixture, NO_BUILTINS, CLI, waitFor } from '../test/helpers/harness.js';
import { closedLoop, socketRpc } from './driver.js';
const mode = process.argv[2] ?? 'strace';
const h = createHarness({ children: NO_BUILTINS, mcpServers: { echo: fixture() } });
const flags = mode === 'prof' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/hp'] : [];
const sup = spawn(process.execPath, [...flags, CLI, 'start', '--foreground'], { env: h.env, stdio: 'ignore' });
await waitFor(() => existsSync(h.socket('echo')), 20000);
await new Promise((r) => setTimeout(r, 1500));
const c = await socketRpc(h.socket('echo'));
const call = (i: number) => c.rpc.request('tools/call', { name: 'echo', arguments: { text: `m${i}` } });
await closedLoop(call, 64, 5000);
let tracer;
if (mode === 'strace') {
  tracer = spawn('strace', ['-c', '-f', '-p', String(sup.pid), '-o', '/tmp/hp/strace.txt'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
}
const N = Number(process.argv[3] ?? 30000);
const r = await closedLoop(call, 64, N);
console.log(JSON.stringify(r));
tracer?.kill('SIGINT');
await new Promise((r) => setTimeout(r, 500));
c.close();
sup.kill('SIGTERM');
await new Promise((r) => sup.once('exit', r));
await h.cleanup();

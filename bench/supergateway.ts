import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/harness.js';

const SUPERGATEWAY = join(ROOT, 'node_modules/supergateway/dist/index.js');
/** How long supergateway may take to answer on its port. */
const START_WAIT_MS = 30_000;

/**
 * Starts supergateway in its stateful Streamable HTTP mode (one `stdioCommand` process per session) on `port` and
 * waits until it answers; `stop` kills its process group, the server processes it spawned included.
 */
export async function startSupergateway(stdioCommand: string, port: number): Promise<{ stop(): void; pid: number }> {
  const child = spawn(
    process.execPath,
    [
      SUPERGATEWAY,
      '--stdio',
      stdioCommand,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
    ],
    { stdio: 'ignore', detached: true },
  );
  const stop = () => process.kill(-(child.pid as number), 'SIGKILL');
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'GET' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      stop();
      throw new Error(`supergateway did not answer on port ${port} within ${START_WAIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { stop, pid: child.pid as number };
}

import { join } from 'node:path';
import { readChildConfig, startChild } from '../shared/child-env.js';
import { DEFAULT_PYTHONS, type PythonOptions, parsePythonOptions } from './options.js';
import { RunSlots } from './run-slots.js';
import { SANDBOX_CACHE_FILE, setUpSandboxRemembered } from './sandbox-cache.js';
import { setUpSandbox } from './sandbox-setup.js';

/** Runs going at once: two cores' worth of busy interpreters, plus two that wait on I/O. */
const MAX_CONCURRENT_RUNS = 4;
/** Calls that may wait for a free run slot before new ones are refused. */
const MAX_WAITING_RUNS = 16;

let options: PythonOptions;
try {
  options = parsePythonOptions(readChildConfig<Record<string, unknown>>());
} catch (error) {
  process.stderr.write(`omnimind python: ${(error as Error).message}\n`);
  process.exit(1);
}

// The sandbox probe waits on several Python starts: it runs while the MCP server's modules load, not before, and
// under a supervisor (which gives the child a data directory) a restart reuses what the last start found.
const candidates = options.python ? [options.python] : DEFAULT_PYTHONS;
const dataDir = process.env.OMNIMIND_DATA_DIR;
const settingUp = dataDir
  ? setUpSandboxRemembered(join(dataDir, SANDBOX_CACHE_FILE), candidates, options.memoryMb, MAX_CONCURRENT_RUNS)
  : setUpSandbox(candidates, options.memoryMb, MAX_CONCURRENT_RUNS);
startChild('python', async () => {
  const [{ serveStdio }, { createPythonServer }] = await Promise.all([
    import('../shared/runtime.js'),
    import('./server.js'),
  ]);
  const setup = await settingUp;
  if (setup.problem) process.stderr.write(`omnimind python: ${setup.problem}\n`);
  const slots = new RunSlots(MAX_CONCURRENT_RUNS, MAX_WAITING_RUNS);
  const shutdown = new AbortController();
  // On the way out every run is ended, then waited for, so that its directory and processes go with it.
  await serveStdio(createPythonServer({ options, ...setup, slots, shutdown: shutdown.signal }), () => {
    shutdown.abort();
    return slots.idle();
  });
});

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SocketClientTransport } from './socket-transport.js';

export { isProcessRunning as isRunning } from '../../src/supervisor/index.js';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The CLI entry point, as users run it. */
export const CLI = join(ROOT, 'bin', 'omnimind.js');
/** The configurable fixture MCP server. */
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'children', 'fixture-server.mjs');

/** The outcome of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An isolated omnimind installation in a temp dir: its own HOME, RUNTIME and config. */
export interface Harness {
  dir: string;
  home: string;
  runtimeDir: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
  writeConfig(config: unknown): void;
  cli(args: string[], options?: { input?: string; timeoutMs?: number; umask?: string }): Promise<CliResult>;
  socket(child: string): string;
  /** Connects an SDK client; `setup` registers its handlers before the handshake. */
  client(child: string, capabilities?: Record<string, unknown>, setup?: (client: Client) => void): Promise<Client>;
  cleanup(): Promise<void>;
}

/** The seven built-in children disabled, so a test runs only the fixtures it names. */
export const NO_BUILTINS = Object.fromEntries(
  ['memory', 'context', 'thinking', 'python', 'filesystem', 'git', 'sqlite'].map((n) => [n, { enabled: false }]),
);

/** An `mcpServers` entry running the fixture server with flags. */
export function fixture(...flags: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [FIXTURE, ...flags] };
}

/** Creates a harness; `config` is written as the config file. */
export function createHarness(config: unknown = { children: NO_BUILTINS }): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'om-'));
  const home = join(dir, 'home');
  const runtimeDir = join(dir, 'run');
  const configFile = join(dir, 'config.json');
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMNIMIND_HOME: home,
    OMNIMIND_RUNTIME_DIR: runtimeDir,
    OMNIMIND_CONFIG: configFile,
    NO_COLOR: '1',
  };
  const clients: Client[] = [];
  const harness: Harness = {
    dir,
    home,
    runtimeDir,
    configFile,
    env,
    writeConfig: (value) => writeFileSync(configFile, JSON.stringify(value, null, 2)),
    cli: (args, options = {}) => runCli(args, env, dir, options),
    socket: (child) => join(runtimeDir, `${child}.sock`),
    async client(child, capabilities = {}, setup) {
      const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities });
      setup?.(client);
      await client.connect(new SocketClientTransport(harness.socket(child)));
      clients.push(client);
      return client;
    },
    async cleanup() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await runCli(['stop', '--timeout', '2'], env, dir, { timeoutMs: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  harness.writeConfig(config);
  return harness;
}

/** Gives the memory child 20 entities (`entity0`…`entity19`, observations `about topic0`…`9`) to read. */
export async function seedMemoryGraph(memory: Client): Promise<void> {
  await memory.callTool({
    name: 'create_entities',
    arguments: {
      entities: Array.from({ length: 20 }, (_, i) => ({
        name: `entity${i}`,
        entityType: 'topic',
        observations: [`about topic${i % 10}`],
      })),
    },
  });
}

/** Runs the CLI as a user would and collects its output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: { input?: string; timeoutMs?: number; umask?: string } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    // With a umask, through a shell that sets it first, as a user's shell would.
    const [command, argv] =
      options.umask === undefined
        ? [process.execPath, [CLI, ...args]]
        : ['/bin/sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, process.execPath, CLI, ...args]];
    const child = spawn(command, argv, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Polls `check` every 20 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

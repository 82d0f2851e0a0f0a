import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './http.js';

/** A private redis-server (Debian's package) on a loopback port, without persistence, as the README configures it. */
export interface RedisServer {
  port: number;
  url: string;
  /** The same server on its unix socket. */
  socketUrl: string;
  /** A plain client for inspecting keys. */
  client: Redis;
  /** Starts it again on the same port after `kill` (an empty server: nothing was saved). */
  restart(): Promise<void>;
  /** Sends a signal (SIGKILL by default) and waits for the process to end when it is one that ends it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port and waits until it answers. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'om-redis-'));
  let process: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--maxmemory',
        '64mb',
        '--maxmemory-policy',
        'allkeys-lru',
        '--unixsocket',
        join(dir, 'redis.sock'),
        '--unixsocketperm',
        '700',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
    child.stdout!.resume();
  };
  await launch();
  const client = new Redis(port, '127.0.0.1', { lazyConnect: false });
  // The test kills the server on purpose; its reconnection attempts are expected.
  client.on('error', () => {});
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    socketUrl: `redis+unix://${join(dir, 'redis.sock')}`,
    client,
    restart: launch,
    async kill(signal = 'SIGKILL') {
      const child = process!;
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
        child.kill(signal);
        return;
      }
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
    async stop() {
      client.disconnect();
      process?.kill('SIGCONT');
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';

/** A newline-delimited JSON-RPC connection for load generation: no SDK on the hot path, so only the server is measured. */
export class RawRpc {
  readonly #out: Writable;
  readonly #pending = new Map<number, (message: Record<string, unknown>) => void>();
  #nextId = 1;
  #buffer = '';

  constructor(input: Readable, output: Writable) {
    this.#out = output;
    input.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      let newline = this.#buffer.indexOf('\n');
      while (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        newline = this.#buffer.indexOf('\n');
        if (!line) continue;
        const message = JSON.parse(line) as Record<string, unknown>;
        const resolve = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
        if (resolve) {
          this.#pending.delete(message.id as number);
          resolve(message);
        }
      }
    });
  }

  /** Sends a request and resolves with the whole response message. */
  request(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#out.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** Sends a notification. */
  notify(method: string, params: Record<string, unknown> = {}): void {
    this.#out.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  /** Performs the MCP handshake. */
  async initialize(): Promise<void> {
    await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench', version: '1' },
    });
    this.notify('notifications/initialized');
  }
}

/** Opens a RawRpc on a unix socket. */
export async function socketRpc(path: string): Promise<{ rpc: RawRpc; close(): void }> {
  const socket = connect(path);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const rpc = new RawRpc(socket, socket);
  await rpc.initialize();
  return { rpc, close: () => socket.destroy() };
}

/** Spawns an MCP server and opens a RawRpc on its stdio. */
export async function stdioRpc(command: string, args: string[]): Promise<{ rpc: RawRpc; close(): void }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const rpc = new RawRpc(child.stdout, child.stdin);
  await rpc.initialize();
  return { rpc, close: () => child.kill('SIGKILL') };
}

/** The result of a closed-loop load run. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `total` requests keeping `concurrency` in flight (spread over the given connections); measures each. */
export async function closedLoop(
  send: (i: number, worker: number) => Promise<Record<string, unknown>>,
  concurrency: number,
  total: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const response = await send(i, worker);
        latencies.push(performance.now() - t0);
        if (response.error || (response.result as { isError?: boolean } | undefined)?.isError) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: total,
    errors,
    seconds,
    perSecond: total / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** The nearest-rank quantile (0.5 = median, 0.99 = p99) of unsorted samples; NaN when there are none. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/**
 * Runs two measurements `rounds` times each, the order alternating, so neither side always runs on a machine the
 * other has just warmed or disturbed.
 */
export async function alternately(rounds: number, first: () => Promise<void>, second: () => Promise<void>) {
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      await first();
      await second();
    } else {
      await second();
      await first();
    }
  }
}

/** Formats a number with a fixed number of decimals; a missing figure (NaN) shows as a dash. */
export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

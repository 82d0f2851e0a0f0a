import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';

/** A spawned MCP server and the official SDK client talking to it over stdio. */
export interface Spawned {
  client: Client;
  transport: StdioClientTransport;
}

/** The MCP servers and temp dirs one test file spawns and makes, closed and removed by `cleanup` after each test. */
export class StdioChildKit {
  readonly #prefix: string;
  readonly #baseEnv: Record<string, string>;
  readonly #open: Spawned[] = [];
  readonly #dirs: string[] = [];

  constructor(prefix: string, baseEnv: Record<string, string> = {}) {
    this.#prefix = prefix;
    this.#baseEnv = baseEnv;
  }

  /** A new temp dir, removed by `cleanup`. */
  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), `${this.#prefix}-`));
    this.#dirs.push(dir);
    return dir;
  }

  /** Runs `node entry` with the environment plus `env`, and connects an SDK client to it. */
  async spawn(entry: string, env: Record<string, string>): Promise<Spawned> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [entry],
      env: { ...(process.env as Record<string, string>), ...this.#baseEnv, ...env },
      stderr: 'ignore',
    });
    const client = new Client({ name: `${this.#prefix}-test`, version: '1.0.0' });
    await client.connect(transport);
    const spawned = { client, transport };
    this.#open.push(spawned);
    return spawned;
  }

  /** Closes every client (ending its server) and removes every temp dir. */
  async cleanup(): Promise<void> {
    for (const { client } of this.#open.splice(0)) await client.close();
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws a clear error when a built child is missing (the build runs before the tests). */
export function requireBuilt(entry: string): void {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npx tsc -p tsconfig.build.json\` first`);
}

/** Calls a tool and returns its result. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The first text block of a result, or ''. */
export function textOf(result: CallToolResult): string {
  const block = result.content[0];
  return block?.type === 'text' ? block.text : '';
}

/** Calls a tool that must succeed and returns its JSON text, parsed. */
export async function callJson<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(client, name, args);
  expect(result.isError, textOf(result)).toBeFalsy();
  return JSON.parse(textOf(result)) as T;
}

/** Calls a tool that must succeed and returns its text. */
export async function text(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} failed: ${textOf(result)}`).toBeFalsy();
  return textOf(result);
}

/** Calls a tool that must fail and returns its error text. */
export async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, `${name} should have failed but returned: ${textOf(result)}`).toBe(true);
  return textOf(result);
}

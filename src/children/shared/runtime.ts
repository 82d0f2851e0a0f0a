import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { flushCoalesced, writeCoalesced } from '../../protocol/index.js';

/** The options section the supervisor passed to this built-in child (`OMNIMIND_CHILD_CONFIG`). */
export function readChildConfig<T extends object>(env: NodeJS.ProcessEnv = process.env): Partial<T> {
  const raw = env.OMNIMIND_CHILD_CONFIG;
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' ? (value as Partial<T>) : {};
  } catch {
    return {};
  }
}

/** The directory where this child keeps its stores, created 0700 if missing. */
export function childDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.OMNIMIND_DATA_DIR ?? join(env.OMNIMIND_HOME ?? join(process.cwd(), '.omnimind'), 'data');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The SDK's stdio transport, except that the answers of one event-loop turn leave in one write to stdout. */
class CoalescingStdioTransport extends StdioServerTransport {
  override send(message: JSONRPCMessage): Promise<void> {
    if (writeCoalesced(process.stdout, serializeMessage(message))) return Promise.resolve();
    return new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}

/** Serves an MCP server on stdio until stdin closes or SIGTERM/SIGINT arrives, then runs `onClose` and exits 0. */
export async function serveStdio(server: McpServer, onClose: () => void | Promise<void> = () => {}): Promise<void> {
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    try {
      await server.close();
      await onClose();
    } finally {
      flushCoalesced(process.stdout);
      process.exit(0);
    }
  };
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await server.connect(new CoalescingStdioTransport());
}

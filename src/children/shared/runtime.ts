import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { flushCoalesced, writeCoalesced } from '../../protocol/index.js';

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

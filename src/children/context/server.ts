import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { registerCompressTools } from './compress-tools.js';
import type { ContextStore } from './context-store.js';
import { registerContextTools } from './context-tools.js';
import { registerSnapshotTools } from './snapshot-tools.js';

/** The version this server reports in `initialize`. */
export const CONTEXT_SERVER_VERSION = '0.1.0';

/** Builds the context MCP server over `store`: each group of tools registers itself here. */
export function createContextServer(store: ContextStore): McpServer {
  const server = new McpServer({ name: 'omnimind-context', version: CONTEXT_SERVER_VERSION });
  registerContextTools(server, store);
  registerSnapshotTools(server, store);
  registerCompressTools(server, store);
  return server;
}

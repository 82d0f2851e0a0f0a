import { performance } from 'node:perf_hooks';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../../config/index.js';
import { AllowedRoots } from './allowed-roots.js';
import { TOOL_TIMEOUT_MS } from './limits.js';
import type { FilesystemContext } from './tool-kit.js';
import { registerAllowedDirectoriesTool, registerListTools, registerSearchTool } from './tools-list.js';
import { registerFileInfoTool, registerReadTools } from './tools-read.js';
import { registerMoveTool, registerWriteTools } from './tools-write.js';

/** Options of the filesystem server. */
export interface FilesystemServerOptions {
  /** Absolute directories the tools may touch (the child's `roots` option). */
  roots: readonly string[];
  /** Where warnings go (the child's stderr, which the supervisor logs). */
  warn?: (message: string) => void;
  /** Clock of the walks' time budget (ms); injectable for tests. */
  now?: () => number;
  /** Time one tool call may take (ms). */
  toolTimeoutMs?: number;
}

/**
 * Builds the filesystem MCP server: the tools of the reference filesystem server, confined to the configured roots,
 * narrowed per request to the roots of the client that sent it (`_meta["omnimind/roots"]`, set by the gateway).
 * It never asks a client for its roots itself: one process serves many clients through the gateway.
 */
export async function createFilesystemServer(options: FilesystemServerOptions): Promise<McpServer> {
  const warn = options.warn ?? ((message: string) => console.error(message));
  const roots = new AllowedRoots();
  await roots.configure(options.roots, warn);
  const server = new McpServer({ name: 'omnimind-filesystem', version: VERSION });
  const context: FilesystemContext = {
    roots,
    now: options.now ?? (() => performance.now()),
    toolTimeoutMs: options.toolTimeoutMs ?? TOOL_TIMEOUT_MS,
  };
  // The reference server's order, so tools/list reads the same.
  registerReadTools(server, context);
  registerWriteTools(server, context);
  registerListTools(server, context);
  registerMoveTool(server, context);
  registerSearchTool(server, context);
  registerFileInfoTool(server, context);
  registerAllowedDirectoriesTool(server, context);

  return server;
}

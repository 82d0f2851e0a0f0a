import { performance } from 'node:perf_hooks';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RootsListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../../config/index.js';
import { AllowedRoots } from './allowed-roots.js';
import { TOOL_TIMEOUT_MS } from './limits.js';
import type { FilesystemContext } from './tool-kit.js';
import { registerAllowedDirectoriesTool, registerListTools, registerSearchTool } from './tools-list.js';
import { registerFileInfoTool, registerReadTools } from './tools-read.js';
import { registerMoveTool, registerWriteTools } from './tools-write.js';

/** How long to wait for the client's answer to `roots/list` (ms); tool calls wait for it, so keep it short. */
const ROOTS_REQUEST_TIMEOUT_MS = 5_000;

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
 * which the client's MCP roots replace (clipped to the configured ones) at initialization and on
 * `notifications/roots/list_changed`.
 */
export async function createFilesystemServer(options: FilesystemServerOptions): Promise<McpServer> {
  const warn = options.warn ?? ((message: string) => console.error(message));
  const roots = new AllowedRoots();
  await roots.configure(options.roots, warn);
  const server = new McpServer({ name: 'omnimind-filesystem', version: VERSION });
  let rootsUpdate: Promise<void> = Promise.resolve();
  const context: FilesystemContext = {
    roots,
    rootsSettled: () => rootsUpdate,
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

  const fetchClientRoots = async () => {
    try {
      const { roots: clientRoots } = await server.server.listRoots(undefined, { timeout: ROOTS_REQUEST_TIMEOUT_MS });
      await roots.applyClientRoots(
        clientRoots.map((root) => root.uri),
        warn,
      );
    } catch (error) {
      warn(`Could not get the client's roots: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const refreshFromClient = () => {
    rootsUpdate = rootsUpdate.then(fetchClientRoots);
    return rootsUpdate;
  };
  server.server.oninitialized = () => {
    if (server.server.getClientCapabilities()?.roots) void refreshFromClient();
  };
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, refreshFromClient);
  return server;
}

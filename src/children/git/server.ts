import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../../config/index.js';
import { AllowedRepositories } from './repositories.js';
import { registerChangeTools } from './tools-change.js';
import { registerInspectTools } from './tools-inspect.js';

/** Options of the git server. */
export interface GitServerOptions {
  /** Absolute directories whose git repositories the tools may use (the child's `repositories` option). */
  repositories: readonly string[];
  /** Where warnings go (the child's stderr, which the supervisor logs). */
  warn?: (message: string) => void;
}

/** Builds the git MCP server: the tools of the reference git server, confined to the configured repositories. */
export async function createGitServer(options: GitServerOptions): Promise<McpServer> {
  const repositories = new AllowedRepositories();
  await repositories.configure(options.repositories, options.warn ?? ((message) => console.error(message)));
  const server = new McpServer({ name: 'omnimind-git', version: VERSION });
  registerInspectTools(server, { repositories });
  registerChangeTools(server, { repositories });
  return server;
}

import { join } from 'node:path';
import { jsonFormat } from './json-file.js';
import { tomlFormat } from './toml-file.js';
import type { ClientEnvironment, ClientId, ConfigFormat, Scope, ServerEntry } from './types.js';

/** One MCP client: where its config lives for each scope it has, and how entries are written there. */
export interface ClientSpec {
  id: ClientId;
  /** The client's own name, for messages. */
  name: string;
  /** The config file of each scope the client has. */
  files: Partial<Record<Scope, (e: ClientEnvironment) => string>>;
  /** The directory the client makes for itself: it or the user config file existing means "found on this machine". */
  directory: (e: ClientEnvironment) => string;
  format: ConfigFormat;
}

/** Electron apps keep their data in `$XDG_CONFIG_HOME/<App>` on Linux, else `~/.config/<App>`. */
function xdgConfig(e: ClientEnvironment, ...parts: string[]): string {
  return join(e.env.XDG_CONFIG_HOME || join(e.home, '.config'), ...parts);
}

/** `{command, args, env}`: the shape Claude Desktop made common. */
function stdio(entry: ServerEntry): Record<string, unknown> {
  return { command: entry.command, args: entry.args, ...(Object.keys(entry.env).length > 0 ? { env: entry.env } : {}) };
}

/** The same with `"type": "stdio"`, which VS Code requires and Claude Code writes. */
function typedStdio(entry: ServerEntry): Record<string, unknown> {
  return { type: 'stdio', ...stdio(entry) };
}

/** Servers under `mcpServers`, each `{command, args, env}`. */
const mcpServers = jsonFormat('mcpServers', stdio);

/** Every supported client, in the order `clients list` shows them. */
export const CLIENTS: readonly ClientSpec[] = [
  {
    // https://code.claude.com/docs/en/mcp ("MCP installation scopes"): user scope is the top-level `mcpServers` of
    // ~/.claude.json, project scope is `.mcp.json` at the project root; `claude mcp add` writes `"type": "stdio"`.
    id: 'claude-code',
    name: 'Claude Code',
    files: { user: (e) => join(e.home, '.claude.json'), project: (e) => join(e.cwd, '.mcp.json') },
    directory: (e) => join(e.home, '.claude'),
    format: jsonFormat('mcpServers', typedStdio),
  },
  {
    // https://modelcontextprotocol.io/quickstart/user: claude_desktop_config.json, `mcpServers` of
    // {command, args, env}; on Linux in the app's Electron config directory, ~/.config/Claude.
    id: 'claude-desktop',
    name: 'Claude Desktop',
    files: { user: (e) => xdgConfig(e, 'Claude', 'claude_desktop_config.json') },
    directory: (e) => xdgConfig(e, 'Claude'),
    format: mcpServers,
  },
  {
    // https://cursor.com/docs/mcp ("Configuration locations"): ~/.cursor/mcp.json for every project,
    // .cursor/mcp.json in a project; `mcpServers` of {command, args, env}.
    id: 'cursor',
    name: 'Cursor',
    files: { user: (e) => join(e.home, '.cursor', 'mcp.json'), project: (e) => join(e.cwd, '.cursor', 'mcp.json') },
    directory: (e) => join(e.home, '.cursor'),
    format: mcpServers,
  },
  {
    // https://code.visualstudio.com/docs/copilot/reference/mcp-configuration: mcp.json in the user profile
    // (~/.config/Code/User on Linux) or .vscode/mcp.json in a workspace; top-level `servers`, `"type": "stdio"`
    // required; the file is JSONC.
    id: 'vscode',
    name: 'VS Code',
    files: {
      user: (e) => xdgConfig(e, 'Code', 'User', 'mcp.json'),
      project: (e) => join(e.cwd, '.vscode', 'mcp.json'),
    },
    directory: (e) => xdgConfig(e, 'Code'),
    format: jsonFormat('servers', typedStdio),
  },
  {
    // https://docs.windsurf.com/windsurf/cascade/mcp: ~/.codeium/windsurf/mcp_config.json, `mcpServers` of
    // {command, args, env}; no project scope.
    id: 'windsurf',
    name: 'Windsurf',
    files: { user: (e) => join(e.home, '.codeium', 'windsurf', 'mcp_config.json') },
    directory: (e) => join(e.home, '.codeium', 'windsurf'),
    format: mcpServers,
  },
  {
    // https://geminicli.com/docs/tools/mcp-server/ and /docs/cli/configuration: `mcpServers` of {command, args, env}
    // in ~/.gemini/settings.json (user) or .gemini/settings.json (project).
    id: 'gemini-cli',
    name: 'Gemini CLI',
    files: {
      user: (e) => join(e.home, '.gemini', 'settings.json'),
      project: (e) => join(e.cwd, '.gemini', 'settings.json'),
    },
    directory: (e) => join(e.home, '.gemini'),
    format: mcpServers,
  },
  {
    // https://developers.openai.com/codex/mcp: `[mcp_servers.<name>]` tables with command, args, env in
    // $CODEX_HOME/config.toml (default ~/.codex), or .codex/config.toml in a trusted project.
    id: 'codex',
    name: 'Codex',
    files: {
      user: (e) => join(e.env.CODEX_HOME || join(e.home, '.codex'), 'config.toml'),
      project: (e) => join(e.cwd, '.codex', 'config.toml'),
    },
    directory: (e) => e.env.CODEX_HOME || join(e.home, '.codex'),
    format: tomlFormat,
  },
];

/** The spec of one client. */
export function clientSpec(id: ClientId): ClientSpec {
  return CLIENTS.find((c) => c.id === id)!;
}

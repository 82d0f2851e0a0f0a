/** The MCP clients whose config files omnimind writes. */
export const CLIENT_IDS = [
  'claude-code',
  'claude-desktop',
  'cursor',
  'vscode',
  'windsurf',
  'gemini-cli',
  'codex',
] as const;

/** One of {@link CLIENT_IDS}. */
export type ClientId = (typeof CLIENT_IDS)[number];

/** What an endpoint name may be: it names a socket file, so never a path (child and profile names fit it). */
export const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Where an entry lives: the user's own config, or the project's (the current directory) that is shared with it. */
export type Scope = 'user' | 'project';

/** What an MCP client runs to reach an omnimind endpoint: a stdio server command. */
export interface ServerEntry {
  command: string;
  args: string[];
  /** Variables the client adds to its environment; empty when the minimal environment finds the supervisor. */
  env: Record<string, string>;
}

/** Where a client's files are looked up: the user's home, the project directory and the environment. */
export interface ClientEnvironment {
  home: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** How one config file format reads and edits the servers map of one client; every edit keeps all other bytes. */
export interface ConfigFormat {
  /** The servers map (name → entry as stored); throws CLIENT_CONFIG_MALFORMED naming the file and the error. */
  readServers(text: string, file: string): Record<string, unknown>;
  /** The text with the entry `name` set to `entry` (inserted, or replacing an existing one). */
  setServer(text: string, file: string, name: string, entry: ServerEntry): string;
  /** The text without the entry `name` (the caller checks it exists). */
  removeServer(text: string, file: string, name: string): string;
  /** Whether a stored entry already says what `entry` says (its other keys are the user's). */
  matches(stored: unknown, entry: ServerEntry): boolean;
}

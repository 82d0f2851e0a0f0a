import { ErrorCode } from '../protocol/index.js';

/** The MCP request methods a client may send: only these become a `method` label, anything else is `other`. */
const MCP_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** The labels of one kind of request, as its counters and its span carry them. */
export interface RequestLabels {
  readonly endpoint: string;
  readonly child: string;
  readonly method: string;
  readonly tool: string;
}

/** The label of everything outside a bounded set. */
export const OTHER = 'other';

/** The `method` label of a request: its name if MCP defines it, else `other`. */
export function methodLabel(method: string): string {
  return MCP_METHODS.has(method) ? method : OTHER;
}

/** The tool names of each tools list a child reported, as a set (a new list is a new array, so a new set). */
const toolSets = new WeakMap<readonly { name: string }[], Set<string>>();

/** The `tool` label: the tool's name if the child lists it, `other` if not, empty for requests that call no tool. */
export function toolLabel(tool: string | undefined, tools: readonly { name: string }[]): string {
  if (tool === undefined) return '';
  let names = toolSets.get(tools);
  if (names === undefined) {
    names = new Set(tools.map((t) => t.name));
    toolSets.set(tools, names);
  }
  return names.has(tool) ? tool : OTHER;
}

/** The `child` label: a `per-client` instance (`name#slot`) counts as its child, so slots never become labels. */
export function childLabel(name: string): string {
  const hash = name.indexOf('#');
  return hash === -1 ? name : name.slice(0, hash);
}

/** The JSON-RPC and omnimind error codes a `code` label may carry; a child's own codes are `other`. */
export const KNOWN_CODES: readonly number[] = [...new Set<number>(Object.values(ErrorCode))];
const knownCodes = new Set(KNOWN_CODES);

/** The `code` label of an error answer. */
export function codeLabel(code: unknown): string {
  return typeof code === 'number' && knownCodes.has(code) ? String(code) : OTHER;
}

import { BUILTIN_CHILDREN } from './schema.js';

/**
 * Names no `mcpServers` entry may take, because something of omnimind's already answers to them: every child gets
 * `<name>.sock` and `logs/<name>.log`, beside the control socket, the default profile's endpoint and the supervisor's log.
 */
export const RESERVED_NAMES: Readonly<Record<string, string>> = {
  control: 'the control socket (control.sock)',
  omnimind: 'the endpoint that serves every child (omnimind.sock)',
  supervisor: "the supervisor's own log (logs/supervisor.log)",
};

/**
 * Every `mcpServers` name that clashes, as config problems (path, message, hint): a reserved name, or a built-in
 * child's name while that built-in is enabled (a server replaces a built-in only when the built-in is disabled).
 */
export function nameClashes(value: unknown): Array<{ path: string; message: string; hint: string }> {
  const config = value as { mcpServers?: unknown; children?: Record<string, { enabled?: unknown } | undefined> } | null;
  const servers = config?.mcpServers;
  if (typeof servers !== 'object' || servers === null) return [];
  const problems: Array<{ path: string; message: string; hint: string }> = [];
  for (const name of Object.keys(servers)) {
    const reserved = RESERVED_NAMES[name];
    if (reserved !== undefined) {
      problems.push({
        path: `$.mcpServers.${name}`,
        message: `"${name}" is reserved for ${reserved}`,
        hint: `give this server another name, e.g. "${name}-server"`,
      });
    } else if ((BUILTIN_CHILDREN as readonly string[]).includes(name) && config?.children?.[name]?.enabled !== false) {
      problems.push({
        path: `$.mcpServers.${name}`,
        message: `"${name}" is the name of the built-in ${name} child, which is enabled`,
        hint: `set children.${name}.enabled to false to run this server instead of the built-in, or give this server another name`,
      });
    }
  }
  return problems;
}

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

/** Every `mcpServers` name that clashes with a reserved name or a built-in child, as config problems (path, message, hint). */
export function nameClashes(value: unknown): Array<{ path: string; message: string; hint: string }> {
  const servers = (value as { mcpServers?: unknown } | null)?.mcpServers;
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
    } else if ((BUILTIN_CHILDREN as readonly string[]).includes(name)) {
      problems.push({
        path: `$.mcpServers.${name}`,
        message: `"${name}" is the name of a built-in child, which a server of yours cannot replace by taking its name`,
        hint: `give this server another name, e.g. "${name}-server", and set children.${name}.enabled to false if it should run instead of the built-in`,
      });
    }
  }
  return problems;
}

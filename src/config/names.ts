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

/** The names of the children a config enables: built-ins not disabled, then its `mcpServers` not disabled. */
export function enabledChildNames(config: {
  children?: Record<string, { enabled?: unknown } | undefined>;
  mcpServers?: Record<string, { enabled?: unknown } | undefined>;
}): string[] {
  const builtins = BUILTIN_CHILDREN.filter((name) => config.children?.[name]?.enabled !== false);
  const servers = Object.entries(config.mcpServers ?? {}).flatMap(([name, server]) =>
    server?.enabled === false ? [] : [name],
  );
  return [...builtins, ...servers];
}

/**
 * Every problem with the config's `profiles`, as config problems: a profile named like a child or a reserved
 * endpoint, and a child a profile names that is missing or disabled.
 */
export function profileProblems(value: unknown): Array<{ path: string; message: string; hint: string }> {
  const config = value as {
    profiles?: unknown;
    children?: Record<string, { enabled?: unknown } | undefined>;
    mcpServers?: Record<string, { enabled?: unknown } | undefined>;
  } | null;
  const profiles = config?.profiles;
  if (typeof profiles !== 'object' || profiles === null) return [];
  const enabled = enabledChildNames(config ?? {});
  const problems: Array<{ path: string; message: string; hint: string }> = [];
  for (const [name, profile] of Object.entries(profiles as Record<string, unknown>)) {
    if (name !== 'omnimind' && RESERVED_NAMES[name] !== undefined) {
      problems.push({
        path: `$.profiles.${name}`,
        message: `"${name}" is reserved for ${RESERVED_NAMES[name]}`,
        hint: `give this profile another name, e.g. "${name}-profile"`,
      });
    } else if (enabled.includes(name) || Object.hasOwn(config?.mcpServers ?? {}, name)) {
      problems.push({
        path: `$.profiles.${name}`,
        message: `"${name}" is already the name of a child; endpoint names are unique across children and profiles`,
        hint: `give this profile another name, e.g. "${name}-profile"`,
      });
    }
    const children = (profile as { children?: unknown } | null)?.children;
    if (!Array.isArray(children)) continue;
    children.forEach((child, i) => {
      if (typeof child !== 'string' || enabled.includes(child)) return;
      const known =
        Object.hasOwn(config?.mcpServers ?? {}, child) || (BUILTIN_CHILDREN as readonly string[]).includes(child);
      problems.push({
        path: `$.profiles.${name}.children[${i}]`,
        message: known ? `"${child}" is disabled` : `"${child}" is not a child`,
        hint: known
          ? `enable "${child}" or remove it from the profile`
          : `use one of the enabled children: ${enabled.join(', ')}`,
      });
    });
  }
  return problems;
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OmnimindError } from '../protocol/index.js';

/** Which systemd manager the units are for: the user's own (`systemctl --user`) or the system's. */
export type UnitMode = 'user' | 'system';

/** What the rendered units point at. */
export interface RenderOptions {
  mode: UnitMode;
  /** Absolute path of the node binary. */
  nodePath: string;
  /** Absolute path of bin/omnimind.js. */
  cliPath: string;
  /** Endpoints that get a socket unit (omnimind@<name>.socket): every enabled child and every profile. */
  children: string[];
  /** Directories the children write to: filesystem roots, git repositories, the sqlite database's directory. */
  readWritePaths: string[];
  /** OMNIMIND_HOME. In system mode it must be under /var/lib (systemd creates it as StateDirectory=). */
  home: string;
  /** OMNIMIND_CONFIG. */
  configFile: string;
  /** Allow internet sockets, for external MCP servers that talk to the network (and npx/uvx caches). */
  allowNetwork?: boolean;
  /** System mode: the account the service runs as; created by sysusers.d when missing. */
  serviceUser?: string;
}

/** One rendered file. */
export interface RenderedUnit {
  name: string;
  text: string;
}

/** The service unit's file name. */
export const SERVICE_UNIT = 'omnimind.service';
/** The control socket unit's file name. */
export const CONTROL_SOCKET_UNIT = 'omnimind-control.socket';
/** The per-child socket template's file name. */
export const CHILD_SOCKET_TEMPLATE = 'omnimind@.socket';
/** The account a system install runs as unless told otherwise. */
export const DEFAULT_SERVICE_USER = 'omnimind';
/** Where a system install keeps its state (StateDirectory=omnimind). */
export const SYSTEM_HOME = '/var/lib/omnimind';
/** Where a system install reads its config. */
export const SYSTEM_CONFIG_FILE = '/etc/omnimind/config.json';

/** Names that are safe as a unit instance, a socket file name and an LISTEN_FDNAMES entry (which ':' separates). */
const CHILD_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
/** useradd's portable account names. */
const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Directories searched after node's own, so `npx`, `python3`, `git` and friends resolve as in a login shell. */
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/** Package caches that `npx -y` and `uvx` write to when external MCP servers are fetched. */
const NETWORK_CACHE_PATHS = ['%h/.npm', '%h/.cache'];

/** The unit names to enable: the service, the control socket and one socket per child. */
export function unitsToEnable(children: readonly string[]): string[] {
  return [SERVICE_UNIT, CONTROL_SOCKET_UNIT, ...children.map((child) => `omnimind@${child}.socket`)];
}

/** Renders omnimind.service, omnimind@.socket and omnimind-control.socket from the templates in units/. */
export function renderUnits(options: RenderOptions): RenderedUnit[] {
  const settings = resolveSettings(options);
  return [SERVICE_UNIT, CHILD_SOCKET_TEMPLATE, CONTROL_SOCKET_UNIT].map((name) => ({
    name,
    text: renderTemplate(name, settings),
  }));
}

/** Renders the sysusers.d(5) file that creates the system account (system mode only). */
export function renderSysusers(options: RenderOptions): RenderedUnit {
  return {
    name: 'omnimind.conf',
    text: renderTemplate('omnimind.sysusers', resolveSettings({ ...options, mode: 'system' })),
  };
}

interface Settings {
  /** Active line tags: the mode, `network` or `local`, and `rw` when there are read-write paths. */
  tags: Set<string>;
  values: Map<string, string>;
}

function resolveSettings(options: RenderOptions): Settings {
  const { mode } = options;
  if (mode !== 'user' && mode !== 'system')
    throw invalid(`Expected \`mode\` to be 'user' or 'system', got \`${String(mode)}\``);
  for (const key of ['nodePath', 'cliPath', 'home', 'configFile'] as const) assertAbsolute(key, options[key]);
  options.readWritePaths.forEach((path, index) => {
    assertAbsolute(`readWritePaths[${index}]`, path);
  });
  const children = [...new Set(options.children)];
  for (const child of children) {
    if (!CHILD_NAME.test(child) || child === 'control') {
      throw invalid(
        `Expected each child name to be letters, digits, '_', '.' or '-' (and not \`control\`), got \`${child}\``,
      );
    }
  }
  const serviceUser = options.serviceUser ?? DEFAULT_SERVICE_USER;
  if (!ACCOUNT_NAME.test(serviceUser)) {
    throw invalid(`Expected \`serviceUser\` to be an account name like \`omnimind\`, got \`${serviceUser}\``);
  }
  const home = posix.normalize(options.home);
  const stateDirectory = posix.relative('/var/lib', home);
  if (mode === 'system' && (stateDirectory === '' || stateDirectory.startsWith('..'))) {
    throw invalid(`Expected \`home\` to be a directory under /var/lib in system mode, got \`${options.home}\``);
  }

  // In system mode the home is the StateDirectory=, which systemd makes writable (and creates) itself.
  const writable = mode === 'user' ? [home, ...options.readWritePaths] : [...options.readWritePaths];
  // '-': a missing directory must not stop the supervisor; the child that needs it reports the problem.
  const readWritePaths = [
    ...[...new Set(writable.map((path) => posix.normalize(path)))].map((path) => `"-${escapeQuoted(path)}"`),
    // %h is the user's home in a user manager; a system account's home is the StateDirectory= already.
    ...(options.allowNetwork && mode === 'user' ? NETWORK_CACHE_PATHS.map((path) => `"-${path}"`) : []),
  ];

  const tags = new Set<string>([mode, options.allowNetwork ? 'network' : 'local']);
  if (readWritePaths.length > 0) tags.add('rw');
  const values = new Map([
    ['NODE_PATH', escapeExecArgument(options.nodePath)],
    ['CLI_PATH', escapeExecArgument(options.cliPath)],
    ['PATH', escapeQuoted([...new Set([dirname(options.nodePath), ...SYSTEM_PATH])].join(':'))],
    ['HOME', escapeQuoted(home)],
    ['CONFIG_FILE', escapeQuoted(options.configFile)],
    ['SOCKETS', unitsToEnable(children).slice(1).join(' ')],
    ['READ_WRITE_PATHS', readWritePaths.join(' ')],
    ['SERVICE_USER', serviceUser],
    ['SERVICE_GROUP', serviceUser],
    ['STATE_DIRECTORY', stateDirectory],
    ['SYSTEMCTL_SCOPE', mode === 'user' ? '--user ' : ''],
  ]);
  return { tags, values };
}

/** Keeps a line tagged `@tag ` only when the tag is active (dropping the tag), then fills `@NAME@` placeholders. */
function renderTemplate(name: string, { tags, values }: Settings): string {
  const lines: string[] = [];
  for (const raw of readTemplate(name).split('\n')) {
    const tagged = /^@([a-z]+) (.*)$/.exec(raw);
    if (tagged && !tags.has(tagged[1] ?? '')) continue;
    const line = tagged ? (tagged[2] ?? '') : raw;
    lines.push(
      line.replace(/@([A-Z_]+)@/g, (_match, key: string) => {
        const value = values.get(key);
        if (value === undefined) {
          throw new OmnimindError('UNIT_TEMPLATE_INVALID', `Unknown placeholder @${key}@ in ${name}.`);
        }
        return value;
      }),
    );
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

let templatesDir: string | undefined;

function readTemplate(name: string): string {
  templatesDir ??= findTemplatesDir();
  return readFileSync(join(templatesDir, name), 'utf8');
}

/** units/ sits at the package root: two levels above src/systemd, three above dist/src/systemd. */
function findTemplatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'units');
    if (existsSync(join(candidate, SERVICE_UNIT))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new OmnimindError('UNIT_TEMPLATE_MISSING', 'Cannot find the units/ folder of the omnimind package.');
    }
    dir = parent;
  }
}

function assertAbsolute(key: string, path: string): void {
  if (typeof path !== 'string' || !isAbsolute(path)) {
    throw invalid(`Expected \`${key}\` to be an absolute path, got \`${String(path)}\``);
  }
  if (/[\0-\x1f\x7f]/.test(path))
    throw invalid(`Expected \`${key}\` to have no control characters, got \`${JSON.stringify(path)}\``);
}

/** Escapes a value for a double-quoted unit setting: specifiers (%), backslashes and quotes. */
function escapeQuoted(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
}

/** ExecStart= also expands $VAR, so '$' is doubled as well. */
function escapeExecArgument(value: string): string {
  return escapeQuoted(value).replace(/\$/g, '$$$$');
}

function invalid(message: string): OmnimindError {
  return new OmnimindError('UNIT_OPTION_INVALID', message);
}

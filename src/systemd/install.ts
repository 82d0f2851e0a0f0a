import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CHILD_SOCKET_TEMPLATE,
  CONTROL_SOCKET_UNIT,
  type RenderOptions,
  renderSysusers,
  renderUnits,
  SERVICE_UNIT,
  type UnitMode,
  unitsToEnable,
} from './units.js';

/** Runs one command and reports how it ended; injectable so tests and the CLI can observe or replace it. */
export type CommandRunner = (command: string, args: string[]) => Promise<{ exitCode: number; stderr: string }>;

/** Options shared by install and uninstall. */
export interface UnitLocationOptions {
  mode: UnitMode;
  /** Prefix for every path written or removed (tests, image builds). */
  root?: string;
  /** Report what would happen without touching anything. */
  dryRun?: boolean;
  run?: CommandRunner;
  /** Where the user's config dir (XDG_CONFIG_HOME, HOME) and name (USER) come from. */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link installUnits}. */
export interface InstallOptions extends RenderOptions, UnitLocationOptions {
  /** Enable and start the units after writing them (default true). */
  enable?: boolean;
}

/** Options of {@link uninstallUnits}. */
export type UninstallOptions = UnitLocationOptions;

/** One command that was run. */
export interface CommandOutcome {
  command: string;
  exitCode: number;
  stderr: string;
}

/** What install, uninstall or a reload's socket-unit update did, for the CLI to print. */
export interface InstallReport {
  action: 'install' | 'uninstall' | 'update';
  mode: UnitMode;
  dryRun: boolean;
  unitDir: string;
  /** Files written (install) or removed (uninstall); `text` is the rendered content on install. */
  files: Array<{ path: string; text?: string; done: boolean }>;
  /** Commands that ran, with how they ended. */
  commands: CommandOutcome[];
  /** Commands still to run by hand, in order (dry run, or systemd unreachable, or an earlier command failed). */
  pending: string[];
  /** False when systemctl could not reach a running systemd. */
  systemdReachable: boolean;
  warnings: string[];
  advice: string[];
}

/** systemctl's words when no systemd manager is there to talk to (containers, chroots, WSL without systemd). */
const UNREACHABLE =
  /System has not been booted with systemd|Failed to connect to bus|Failed to connect to user scope bus/;

/** Mode of written unit files: world-readable like every unit under /etc/systemd. */
const UNIT_FILE_MODE = 0o644;

/** Where the units of a mode live (without the root prefix). */
export function unitDirectory(mode: UnitMode, env: NodeJS.ProcessEnv = process.env): string {
  if (mode === 'system') return '/etc/systemd/system';
  const configHome = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'systemd', 'user');
}

/** Writes the units (atomically), reloads systemd and enables them; says exactly what it could not do. */
export async function installUnits(options: InstallOptions): Promise<InstallReport> {
  const env = options.env ?? process.env;
  const root = options.root ?? '';
  const unitDir = unitDirectory(options.mode, env);
  const report = emptyReport('install', options, unitDir);
  const systemctl = systemctlPrefix(options.mode);
  const enable = [...systemctl, 'enable', '--now', ...unitsToEnable(options.children)];

  const files = renderUnits(options).map((unit) => ({ path: join(unitDir, unit.name), text: unit.text }));
  const commands: string[][] = [];
  if (options.mode === 'system') {
    const sysusers = renderSysusers(options);
    const path = join('/etc/sysusers.d', sysusers.name);
    files.push({ path, text: sysusers.text });
    // With --root, systemd-sysusers still reads the files it is given from the host: pass the prefixed path.
    commands.push(['systemd-sysusers', ...(root === '' ? [] : [`--root=${root}`]), root + path]);
  }
  commands.push([...systemctl, 'daemon-reload']);
  if (options.enable !== false) commands.push(enable);

  for (const file of files) {
    const target = root + file.path;
    if (!report.dryRun) writeAtomically(target, file.text);
    report.files.push({ path: target, text: file.text, done: !report.dryRun });
  }
  if (options.mode === 'user' && !report.dryRun) mkdirSync(root + options.home, { recursive: true, mode: 0o700 });

  await runCommands(report, commands, options.run ?? runCommand, { stopOnFailure: true });
  if (options.mode === 'user') {
    const user = env.USER ?? userInfo().username;
    if (!existsSync(join(root, '/var/lib/systemd/linger', user))) {
      report.advice.push(
        `Run \`loginctl enable-linger ${user}\` so omnimind starts at boot and keeps running after you log out.`,
      );
    }
  }
  if (options.enable === false) {
    report.advice.push(`Enable it when ready: ${enable.join(' ')}`);
  }
  return report;
}

/** Stops and disables the units, removes their files and enablement links, and reloads systemd. State is kept. */
export async function uninstallUnits(options: UninstallOptions): Promise<InstallReport> {
  const env = options.env ?? process.env;
  const root = options.root ?? '';
  const unitDir = unitDirectory(options.mode, env);
  const report = emptyReport('uninstall', options, unitDir);
  const systemctl = systemctlPrefix(options.mode);
  const run = options.run ?? runCommand;

  const units = [SERVICE_UNIT, CONTROL_SOCKET_UNIT, CHILD_SOCKET_TEMPLATE];
  await runCommands(
    report,
    [
      [...systemctl, 'stop', SERVICE_UNIT, CONTROL_SOCKET_UNIT, 'omnimind@*.socket'],
      [...systemctl, 'disable', ...units],
    ],
    run,
    { stopOnFailure: false },
  );
  // disable removes the links when systemd is there; without it, they are removed here.
  const targets = [...units.map((unit) => join(root + unitDir, unit)), ...enablementLinks(root + unitDir)];
  for (const path of targets) {
    if (!isPresent(path)) continue;
    if (!report.dryRun) unlinkSync(path);
    report.files.push({ path, done: !report.dryRun });
  }
  await runCommands(report, [[...systemctl, 'daemon-reload']], run, { stopOnFailure: false });
  report.advice.push("omnimind's state and config were kept; delete them by hand if you no longer need them.");
  if (options.mode === 'system') {
    report.advice.push('The `omnimind` account (/etc/sysusers.d/omnimind.conf) was kept.');
  }
  return report;
}

/** Options of {@link updateSocketUnits}. */
export interface SocketUnitUpdate {
  mode: UnitMode;
  /** Endpoints whose socket units to enable (from the next start of the socket units; omnimind binds them meanwhile). */
  enable: readonly string[];
  /** Endpoints whose socket units to stop and disable. */
  disable: readonly string[];
  run?: CommandRunner;
  env?: NodeJS.ProcessEnv;
}

/**
 * After a reload under systemd: enables the socket units of added endpoints (not started: the running supervisor
 * holds their sockets itself until it next starts) and stops and disables those of removed ones.
 */
export async function updateSocketUnits(options: SocketUnitUpdate): Promise<InstallReport> {
  const report = emptyReport('update', options, unitDirectory(options.mode, options.env ?? process.env));
  const systemctl = systemctlPrefix(options.mode);
  const unit = (name: string) => `omnimind@${name}.socket`;
  const commands: string[][] = [];
  if (options.enable.length > 0) commands.push([...systemctl, 'enable', ...options.enable.map(unit)]);
  if (options.disable.length > 0) commands.push([...systemctl, 'disable', '--now', ...options.disable.map(unit)]);
  await runCommands(report, commands, options.run ?? runCommand, { stopOnFailure: false });
  report.pending.push(...report.commands.filter((c) => c.exitCode !== 0).map((c) => c.command));
  return report;
}

function emptyReport(action: InstallReport['action'], options: UnitLocationOptions, unitDir: string): InstallReport {
  return {
    action,
    mode: options.mode,
    dryRun: options.dryRun === true,
    unitDir: (options.root ?? '') + unitDir,
    files: [],
    commands: [],
    pending: [],
    systemdReachable: true,
    warnings: [],
    advice: [],
  };
}

function systemctlPrefix(mode: UnitMode): string[] {
  return mode === 'user' ? ['systemctl', '--user'] : ['systemctl'];
}

/**
 * Runs commands in order. Once systemd proves unreachable, the remaining systemctl commands are listed as
 * pending with the reason; with `stopOnFailure`, any other failure also leaves the rest pending.
 */
async function runCommands(
  report: InstallReport,
  commands: string[][],
  run: CommandRunner,
  { stopOnFailure }: { stopOnFailure: boolean },
): Promise<void> {
  let halted = report.dryRun;
  for (const [command = '', ...args] of commands) {
    const line = [command, ...args].map(quoteShellWord).join(' ');
    if (halted || (command === 'systemctl' && !report.systemdReachable)) {
      report.pending.push(line);
      continue;
    }
    const { exitCode, stderr } = await run(command, args);
    report.commands.push({ command: line, exitCode, stderr: stderr.trim() });
    if (exitCode === 0) continue;
    if (command === 'systemctl' && UNREACHABLE.test(stderr)) {
      report.systemdReachable = false;
      report.warnings.push(
        `systemctl could not reach systemd (${firstLine(stderr)}). The unit files are in place; ` +
          'on a machine running systemd, run the pending commands.',
      );
      continue;
    }
    report.warnings.push(`\`${line}\` failed with exit code ${exitCode}: ${firstLine(stderr)}`);
    if (stopOnFailure) halted = true;
  }
}

/** Links that enable our units (`*.wants/omnimind…`), which systemctl disable would remove. */
function enablementLinks(unitDir: string): string[] {
  if (!existsSync(unitDir)) return [];
  const links: string[] = [];
  for (const entry of readdirSync(unitDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/\.(wants|requires)$/.test(entry.name)) continue;
    const dir = join(unitDir, entry.name);
    for (const name of readdirSync(dir)) {
      if (name === SERVICE_UNIT || name === CONTROL_SOCKET_UNIT || /^omnimind@.*\.socket$/.test(name)) {
        links.push(join(dir, name));
      }
    }
  }
  return links;
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes beside the target and renames over it, so systemd never reads a half-written unit. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: UNIT_FILE_MODE });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The default runner: a real child process, stderr captured, a missing binary reported as exit code 127. */
function runCommand(command: string, args: string[]): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
    });
    child.once('error', (error) => resolve({ exitCode: 127, stderr: error.message }));
    child.once('close', (code, signal) =>
      resolve({ exitCode: code ?? 128, stderr: signal ? `${stderr}killed by ${signal}` : stderr }),
    );
  });
}

function quoteShellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

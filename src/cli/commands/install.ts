import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot, redisL2Of, resolveChildSpecs, resolveProfiles } from '../../config/index.js';
import {
  type InstallReport,
  installUnits,
  SYSTEM_CONFIG_FILE,
  SYSTEM_HOME,
  type UnitMode,
  uninstallUnits,
} from '../../systemd/index.js';
import { configFor, type GlobalOptions } from '../context.js';
import { color } from '../output.js';

/** Options of `omnimind install` and `uninstall`. */
export interface InstallCommandOptions extends GlobalOptions {
  user?: boolean;
  system?: boolean;
  dryRun?: boolean;
  enable?: boolean;
  /** A prefix for every path written (image builds, tests). */
  root?: string;
}

function modeOf(options: InstallCommandOptions): UnitMode {
  return options.system ? 'system' : 'user';
}

/** Prints what install, uninstall or a socket-unit update did, and what is left to run by hand. */
export function printReport(report: InstallReport): number {
  for (const file of report.files) {
    if (report.dryRun && file.text !== undefined) {
      process.stdout.write(`${color.bold(`# ${file.path}`)}\n${file.text}\n`);
    } else {
      process.stdout.write(`${report.action === 'install' ? 'wrote' : 'removed'} ${file.path}\n`);
    }
  }
  for (const command of report.commands) {
    process.stdout.write(`ran ${command.command}: ${command.exitCode === 0 ? 'ok' : `exit ${command.exitCode}`}\n`);
  }
  if (!report.systemdReachable) {
    process.stdout.write(
      color.yellow(
        'systemd is not reachable here (no running systemd manager): the files are written, nothing was started.\n',
      ),
    );
  }
  if (report.pending.length > 0) {
    process.stdout.write(`${report.dryRun ? 'Would run' : 'Still to run by hand'}:\n`);
    for (const command of report.pending) process.stdout.write(`  ${command}\n`);
  }
  for (const warning of report.warnings) process.stderr.write(color.yellow(`warning: ${warning}\n`));
  for (const advice of report.advice) process.stdout.write(`${advice}\n`);
  return 0;
}

/** `omnimind install [--user|--system] [--dry-run] [--no-enable]`: write, reload and enable the systemd units. */
export async function installCommand(options: InstallCommandOptions): Promise<number> {
  const { paths, loaded } = await configFor(options);
  const mode = modeOf(options);
  const specs = resolveChildSpecs(loaded.config, paths, process.cwd()).filter((s) => s.enabled);
  const readWritePaths = new Set<string>();
  for (const spec of specs) {
    const o = spec.options as { roots?: string[]; repositories?: string[]; database?: string };
    for (const p of [...(o.roots ?? []), ...(o.repositories ?? [])]) readWritePaths.add(p);
    if (o.database) readWritePaths.add(dirname(o.database));
  }
  const report = await installUnits({
    mode,
    root: options.root,
    dryRun: options.dryRun,
    enable: options.enable !== false,
    nodePath: process.execPath,
    cliPath: realpathSync(join(packageRoot(), 'bin', 'omnimind.js')),
    children: [...specs.map((s) => s.name), ...resolveProfiles(loaded.config).map((p) => p.name)],
    readWritePaths: [...readWritePaths],
    home: mode === 'system' ? SYSTEM_HOME : paths.home,
    configFile: mode === 'system' ? SYSTEM_CONFIG_FILE : paths.configFile,
    // External servers, the HTTP front and a Redis L2 all need internet sockets.
    allowNetwork:
      Object.keys(loaded.config.mcpServers ?? {}).length > 0 ||
      loaded.config.http?.listen !== undefined ||
      redisL2Of(loaded.config) !== undefined,
  });
  return printReport(report);
}

/** `omnimind uninstall [--user|--system]`: stop, disable and remove the units; state and config are kept. */
export async function uninstallCommand(options: InstallCommandOptions): Promise<number> {
  return printReport(await uninstallUnits({ mode: modeOf(options), root: options.root, dryRun: options.dryRun }));
}

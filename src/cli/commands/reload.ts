import { callControl } from '../../supervisor/control-client.js';
import type { ReloadReport } from '../../supervisor/control-protocol.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** A reload stops removed and changed children (up to their stop timeout each) before it answers. */
const RELOAD_WAIT_MS = 120_000;

/** `omnimind reload`: the supervisor re-reads its config file and applies what changed; exit 1 if it is invalid. */
export async function reloadCommand(options: GlobalOptions): Promise<number> {
  const paths = pathsFor(options);
  const report = await callControl(paths.controlSocket, 'reload', {}, RELOAD_WAIT_MS);
  process.stdout.write(formatReload(report));
  const units = report.socketUnits;
  if (units !== undefined && units.enable.length + units.disable.length > 0) {
    const [{ updateSocketUnits }, { printReport }] = await Promise.all([
      import('../../systemd/index.js'),
      import('./install.js'),
    ]);
    printReport(await updateSocketUnits({ mode: units.scope, enable: units.enable, disable: units.disable }));
  }
  return 0;
}

/** What a reload changed, one line per kind, for people. */
export function formatReload(report: ReloadReport): string {
  const lines = [`config reloaded from ${report.configFile}`];
  const list = (label: string, names: string[]) => {
    if (names.length > 0) lines.push(`  ${label}: ${names.join(', ')}`);
  };
  list('started', report.added);
  list('stopped and removed', report.removed);
  list('restarted (changed)', report.changed);
  list('new start/idleStopSeconds', report.lifecycle);
  list('profiles added', report.profilesAdded);
  list('profiles removed', report.profilesRemoved);
  list('profiles with new tools (clients reconnect)', report.profilesReplaced);
  const live = report.settings.filter((key) => !report.applyAtRestart.includes(key));
  list('settings applied', live);
  list('settings that apply when the supervisor restarts', report.applyAtRestart);
  lines.push(`  unchanged: ${report.kept.length} ${report.kept.length === 1 ? 'child' : 'children'} kept running`);
  return `${lines.join('\n')}\n`;
}

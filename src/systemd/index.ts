export {
  type CommandOutcome,
  type CommandRunner,
  type InstallOptions,
  type InstallReport,
  installUnits,
  type SocketUnitUpdate,
  type UninstallOptions,
  type UnitLocationOptions,
  uninstallUnits,
  unitDirectory,
  updateSocketUnits,
} from './install.js';
export { isUnderSystemd, JOURNAL_PRIORITY, type JournalLevel, journalLine } from './journal.js';
export { inheritedSockets, LISTEN_FDS_START } from './listen-fds.js';
export {
  createNotifier,
  type IntervalTimers,
  type Notifier,
  type NotifierOptions,
  type NotifyLogger,
  type NotifyTransportName,
  startWatchdog,
  type WatchdogHandle,
  type WatchdogOptions,
} from './notify.js';
export {
  CHILD_SOCKET_TEMPLATE,
  CONTROL_SOCKET_UNIT,
  DEFAULT_SERVICE_USER,
  type RenderedUnit,
  type RenderOptions,
  renderSysusers,
  renderUnits,
  SERVICE_UNIT,
  SYSTEM_CONFIG_FILE,
  SYSTEM_HOME,
  type UnitMode,
  unitsToEnable,
} from './units.js';

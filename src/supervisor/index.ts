export { callControl } from './control-client.js';
export type { ChildReport, ControlMethod, ControlMethods, StatusReport } from './control-protocol.js';
export { type DaemonHandle, spawnDaemon } from './daemon.js';
export { type ChildStatus, ManagedChild } from './managed-child.js';
export { isProcessRunning } from './proc.js';
export { RestartPolicy } from './restart-policy.js';
export { probeSocket } from './sockets.js';
export { Supervisor, type SupervisorOptions, type SystemdHooks } from './supervisor.js';
export type { ChildState, ExitReason, ExitRecord } from './types.js';

import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat that identify a process over time. */
export interface ProcIdentity {
  pid: number;
  pgid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for the machine's uptime. */
  startTime: number;
}

/** Reads pid, process group and start time from /proc/<pid>/stat, or undefined if the process is gone. */
export function readProcIdentity(pid: number): ProcIdentity | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!Number.isFinite(pgid) || !Number.isFinite(startTime)) return undefined;
  return { pid, pgid, startTime };
}

/** Every live process in process group `pgid` that started no earlier than `notBefore` (clock ticks). */
export function listGroupMembers(pgid: number, notBefore: number): ProcIdentity[] {
  const members: ProcIdentity[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const identity = readProcIdentity(pid);
    if (identity && identity.pgid === pgid && identity.startTime >= notBefore) members.push(identity);
  }
  return members;
}

/** Sends a signal to a process group; false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether a process is running; a zombie (exited, not yet reaped by its parent) is not. */
export function isProcessRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, fixed at 100 in Linux's user-space ABI. */
const USER_HZ = 100;

/** Resident memory (bytes) and CPU time (user + system, seconds) of a process, or undefined if it is gone. */
export function readProcUsage(pid: number): { rssBytes: number; cpuSeconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    // VmRSS is in kB whatever the page size; a zombie has none.
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { rssBytes: rss === null ? 0 : Number(rss[1]) * 1024, cpuSeconds };
  } catch {
    return undefined;
  }
}

import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

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

/** Resident memory and CPU time of one process group, as `status` shows them. */
export interface GroupUsage {
  /** Resident set size summed over the group's live processes (VmRSS; pages shared between them count in each). */
  rssBytes: number;
  /** User + system CPU seconds of the live processes and of the children they have reaped. */
  cpuSeconds: number;
}

/** Kernel clock ticks per second in /proc/<pid>/stat: USER_HZ, 100 on every Linux architecture's ABI. */
const TICKS_PER_SECOND = 100;
let pageBytes: number | undefined;

/** The kernel page size, read once from this process's first mapping (the unit of the rss field of stat). */
function pageSize(): number {
  if (pageBytes === undefined) {
    let kb = 4;
    try {
      const fd = openSync('/proc/self/smaps', 'r');
      try {
        const head = Buffer.alloc(2048);
        const read = readSync(fd, head, 0, head.length, 0);
        kb = Number(/KernelPageSize:\s+(\d+) kB/.exec(head.toString('latin1', 0, read))?.[1] ?? 4);
      } finally {
        closeSync(fd);
      }
    } catch {
      // no smaps (a restricted /proc): 4 KiB, the common page size
    }
    pageBytes = kb * 1024;
  }
  return pageBytes;
}

/**
 * Memory and CPU of each of the process groups `pgids`, in one pass over /proc reading one stat file per process.
 * A group with no live process is absent from the result, and so is every group where /proc is missing.
 */
export function readGroupUsage(pgids: Iterable<number>): Map<number, GroupUsage> {
  const wanted = new Set(pgids);
  const usage = new Map<number, GroupUsage>();
  if (wanted.size === 0) return usage;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return usage;
  }
  const page = pageSize();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    // Fields after the command name: state is [0], pgrp [2], utime..cstime [11..14], rss (pages) [21].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgid = Number(fields[2]);
    if (!wanted.has(pgid)) continue;
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const total = usage.get(pgid) ?? { rssBytes: 0, cpuSeconds: 0 };
    total.rssBytes += Number(fields[21]) * page;
    total.cpuSeconds = Math.round(total.cpuSeconds * TICKS_PER_SECOND + ticks) / TICKS_PER_SECOND;
    usage.set(pgid, total);
  }
  return usage;
}

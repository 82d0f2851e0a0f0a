import { readdirSync, readFileSync } from 'node:fs';

/** The fields after the command name in /proc/<pid>/stat, or undefined if the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : 0;
}

/** CPU seconds used by the live members of a process group (a child and the workers it spawned). */
export function groupCpuSeconds(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    const fields = /^\d+$/.test(entry) ? statFields(Number(entry)) : undefined;
    if (fields && Number(fields[2]) === pgid) total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

/** CPU seconds used by the live descendants of a process (not itself), whatever process groups they made. */
export function descendantsCpuSeconds(root: number): number {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const fields = /^\d+$/.test(entry) ? statFields(Number(entry)) : undefined;
    if (!fields) continue;
    const ppid = Number(fields[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
  }
  let total = 0;
  const queue = [...(children.get(root) ?? [])];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    total += cpu.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Resident set size of a process in MiB. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/** Proportional set size (shared pages divided among their users) of a process group's live members, in MiB. */
export function groupPssMb(pgid: number): number {
  let kb = 0;
  for (const pid of groupMembers(pgid)) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

/** How many live processes a process group has. */
export function groupSize(pgid: number): number {
  return groupMembers(pgid).length;
}

function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(statFields(Number(entry))?.[2]) === pgid)
    .map(Number);
}

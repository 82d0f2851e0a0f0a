import { readFileSync } from 'node:fs';

/** The resident memory of a process in bytes, from /proc; null where /proc is missing or the process is gone. */
export function readResidentBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

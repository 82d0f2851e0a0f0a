import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logs/index.js';
import { listGroupMembers, readProcIdentity, signalGroup } from './proc.js';
import type { ChildRecord } from './state-db.js';

/** How long orphans get to exit on SIGTERM before SIGKILL. */
const ORPHAN_GRACE_MS = 1_000;

/**
 * Kills the process groups of a previous supervisor's children that still exist. A group is ours only if its
 * recorded leader is alive with the recorded start time, or (leader gone) if members started after that leader:
 * a pid recycled by an unrelated process is never touched.
 */
export async function killOrphans(records: ChildRecord[], logger: Logger): Promise<number> {
  const groups: number[] = [];
  for (const record of records) {
    if (record.pgid === null || record.startTime === null || record.pid === null) continue;
    const leader = readProcIdentity(record.pid);
    const leaderIsOurs = leader !== undefined && leader.startTime === record.startTime && leader.pgid === record.pgid;
    const members = leaderIsOurs ? [leader] : listGroupMembers(record.pgid, record.startTime);
    if (members.length === 0) continue;
    logger.warn(
      `killing ${members.length} orphaned process(es) of child "${record.name}" (process group ${record.pgid})`,
    );
    signalGroup(record.pgid, 'SIGTERM');
    groups.push(record.pgid);
  }
  if (groups.length === 0) return 0;
  const deadline = Date.now() + ORPHAN_GRACE_MS;
  while (Date.now() < deadline && groups.some((pgid) => signalGroup(pgid, 0))) await delay(25);
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  return groups.length;
}

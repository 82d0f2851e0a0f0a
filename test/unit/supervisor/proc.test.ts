import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readGroupUsage, signalGroup } from '../../../src/supervisor/proc.js';

const MB = 1024 * 1024;

// A group leader that starts, in its own group, a member holding 120 MB resident and burning 0.3 s of CPU; the
// leader prints "ready" once the member says it has done both.
const LEADER = `
const { spawn } = require('node:child_process');
const member = spawn(process.execPath, ['-e', \`
  const held = Buffer.alloc(120 * 1024 * 1024, 1);
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user + process.cpuUsage(start).system < 300000) {}
  console.log('held', held.length);
  setInterval(() => {}, 1000);
\`], { stdio: ['ignore', 'pipe', 'inherit'] });
member.stdout.once('data', () => console.log('ready'));
setInterval(() => {}, 1000);
`;

let leader: ChildProcess | undefined;

afterEach(() => {
  if (leader?.pid) signalGroup(leader.pid, 'SIGKILL');
  leader = undefined;
});

describe('readGroupUsage', () => {
  it('sums memory and CPU over every process of the group, not only its leader', async () => {
    leader = spawn(process.execPath, ['-e', LEADER], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    await once(leader.stdout!, 'data');
    const usage = readGroupUsage([leader.pid!]).get(leader.pid!);
    const leaderKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${leader.pid}/status`, 'utf8'))?.[1]);
    expect(leaderKb * 1024).toBeLessThan(120 * MB);
    expect(usage?.rssBytes).toBeGreaterThan(120 * MB);
    // /proc counts CPU in ticks of 10 ms, truncated: a little under the 0.3 s the member measured itself.
    expect(usage?.cpuSeconds).toBeGreaterThanOrEqual(0.25);
  });

  it('leaves out a group with no live process', async () => {
    leader = spawn(process.execPath, ['-e', ''], { detached: true, stdio: 'ignore' });
    const pid = leader.pid!;
    await once(leader, 'exit');
    expect(readGroupUsage([pid]).has(pid)).toBe(false);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

interface UsageJson {
  supervisor: { rssBytes: number; cpuSeconds: number };
  children: Array<{ name: string; state: string; rssBytes: number | null; cpuSeconds: number | null }>;
}

describe('status: memory and CPU', () => {
  it("shows each child's resident memory and CPU time, in --json and in the table, and none once it is stopped", async () => {
    const h = createHarness({ children: NO_BUILTINS, mcpServers: { alpha: fixture(), beta: fixture() } });
    harnesses.push(h);
    expect((await h.cli(['start'])).code).toBe(0);
    const running = JSON.parse((await h.cli(['status', '--json'])).stdout) as UsageJson;
    expect(running.supervisor.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(running.supervisor.cpuSeconds).toBeGreaterThan(0);
    for (const child of running.children) {
      // A Node process on the MCP SDK: tens of MB resident, and it has used some CPU to start.
      expect(child.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(child.cpuSeconds).toBeGreaterThan(0);
    }
    const table = (await h.cli(['status'])).stdout;
    expect(table).toMatch(/NAME\s+STATE\s+PID\s+UPTIME\s+RSS\s+CPU\s+RESTARTS/);
    expect(table).toMatch(/alpha\s+RUNNING\s+\d+\s+\S+\s+\d+M\s+\d+\.\d\ds/);

    expect((await h.cli(['stop', 'beta'])).code).toBe(0);
    const stopped = JSON.parse((await h.cli(['status', '--json'])).stdout) as UsageJson;
    const beta = stopped.children.find((c) => c.name === 'beta');
    expect(beta).toMatchObject({ state: 'STOPPED', rssBytes: null, cpuSeconds: null });
    expect((await h.cli(['status'])).stdout).toMatch(/beta\s+STOPPED\s+-\s+\S+\s+-\s+-\s/);
  });
});

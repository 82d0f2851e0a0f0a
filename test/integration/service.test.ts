import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.cleanup()));
});

function harness(mcpServers: Record<string, unknown>): Harness {
  const h = createHarness({ children: NO_BUILTINS, mcpServers });
  harnesses.push(h);
  return h;
}

interface ChildJson {
  name: string;
  state: string;
  pid: number | null;
  socket: string;
}
interface StatusJson {
  supervisor: { pid: number; configFile: string; configLoadedAt: string };
  children: ChildJson[];
}

async function statusJson(h: Harness): Promise<StatusJson> {
  const result = await h.cli(['status', '--json']);
  return JSON.parse(result.stdout) as StatusJson;
}

function byName(status: StatusJson): Record<string, ChildJson> {
  return Object.fromEntries(status.children.map((c) => [c.name, c]));
}

/** Calls `echo` with a new text each time (so the cache never answers) until `stop` is set; counts and errors. */
function keepCalling(client: Client, label: string, stop: { now: boolean }) {
  const tally = { calls: 0, errors: [] as string[] };
  const done = (async () => {
    for (let i = 0; !stop.now; i++) {
      try {
        const result = await client.callTool({ name: 'echo', arguments: { text: `${label}-${i}` } });
        const text = (result.content as Array<{ text: string }>)[0]?.text;
        if (result.isError || text !== `${label}-${i}`) tally.errors.push(JSON.stringify(result));
        else tally.calls++;
      } catch (error) {
        tally.errors.push((error as Error).message);
      }
    }
  })();
  return { tally, done };
}

describe('omnimind reload', () => {
  it('adds, removes, restarts and keeps children while 16 clients call the kept ones without an error', async () => {
    const h = harness({ keep1: fixture(), keep2: fixture(), change: fixture(), drop: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    const before = byName(await statusJson(h));

    const stop = { now: false };
    const callers: Array<ReturnType<typeof keepCalling>> = [];
    for (let i = 0; i < 16; i++) {
      const name = i % 2 === 0 ? 'keep1' : 'keep2';
      callers.push(keepCalling(await h.client(name), `${name}-${i}`, stop));
    }
    const dropClient = await h.client('drop');
    let dropClosed = false;
    dropClient.onclose = () => {
      dropClosed = true;
    };
    const inFlightOnDrop = dropClient.callTool({ name: 'slow', arguments: { ms: 60_000 } }).then(
      () => 'answered',
      (error: { code?: number; message: string }) => error,
    );
    await waitFor(() => callers.every((c) => c.tally.calls > 0));

    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: { keep1: fixture(), keep2: fixture(), change: fixture('--start-delay=1'), added: fixture() },
    });
    const reloaded = await h.cli(['reload']);
    expect(reloaded.stderr).toBe('');
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toContain('started: added');
    expect(reloaded.stdout).toContain('stopped and removed: drop');
    expect(reloaded.stdout).toContain('restarted (changed): change');
    expect(reloaded.stdout).toContain('unchanged: 2 children kept running');

    const callsAtReload = callers.map((c) => c.tally.calls);
    await waitFor(() => callers.every((c, i) => c.tally.calls > callsAtReload[i]! + 5), 30_000);
    stop.now = true;
    await Promise.all(callers.map((c) => c.done));
    expect(callers.flatMap((c) => c.tally.errors)).toEqual([]);

    const after = byName(
      await waitFor(async () => {
        const status = await statusJson(h);
        return status.children.every((c) => c.state === 'RUNNING') ? status : undefined;
      }, 30_000),
    );
    expect(Object.keys(after).sort()).toEqual(['added', 'change', 'keep1', 'keep2']);
    expect(after.keep1?.pid).toBe(before.keep1?.pid);
    expect(after.keep2?.pid).toBe(before.keep2?.pid);
    expect(after.change?.pid).not.toBe(before.change?.pid);
    expect(existsSync(h.socket('drop'))).toBe(false);
    expect(existsSync(h.socket('added'))).toBe(true);
    const refused = (await inFlightOnDrop) as { code?: number };
    expect(refused.code).toBe(-32011);
    await waitFor(() => dropClosed);

    const changed = await h.client('change');
    const echoed = await changed.callTool({ name: 'echo', arguments: { text: 'new' } });
    expect((echoed.content as Array<{ text: string }>)[0]?.text).toBe('new');
    const added = await h.client('added');
    const answer = await added.callTool({ name: 'echo', arguments: { text: 'hello' } });
    expect((answer.content as Array<{ text: string }>)[0]?.text).toBe('hello');
  });

  it('changes nothing and lists every problem when the new config is invalid', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    const before = await statusJson(h);
    writeFileSync(
      h.configFile,
      JSON.stringify({ mcpServers: { alpha: fixture(), beta: { command: '' } }, limiter: { maxQueue: -1 } }),
    );
    const result = await h.cli(['reload']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('$.mcpServers.beta.command');
    expect(result.stderr).toContain('$.limiter.maxQueue');
    expect(result.stderr).toContain('Nothing was changed');
    const after = await statusJson(h);
    expect(after.children.map((c) => [c.name, c.state, c.pid])).toEqual(
      before.children.map((c) => [c.name, c.state, c.pid]),
    );
    expect(after.supervisor.configLoadedAt).toBe(before.supervisor.configLoadedAt);
    expect(after.supervisor.configFile).toBe(h.configFile);
  });

  it('applies the limiter, gateway and cache settings at once, without restarting a child', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    const before = await statusJson(h);
    const client = await h.client('alpha');
    const slow = () => client.callTool({ name: 'slow', arguments: { ms: 1500, text: 'late' } });
    expect((await slow()).isError).toBeFalsy();
    writeFileSync(
      h.configFile,
      JSON.stringify({
        children: NO_BUILTINS,
        mcpServers: { alpha: fixture() },
        limiter: { timeoutMs: 300 },
        gateway: { maxConnectionsPerSocket: 1 },
        cache: { ttlSeconds: 1 },
      }),
    );
    const reloaded = await h.cli(['reload']);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(reloaded.stdout).toContain('settings applied: cache, gateway, limiter');
    expect(reloaded.stdout).not.toContain('apply when the supervisor restarts');
    // The new timeout: the same call now ends with -32001 after 300 ms.
    await expect(slow()).rejects.toMatchObject({ code: -32001 });
    // The new bound: the client already connected keeps its connection, a second one is refused with -32010.
    const refusal = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.socket('alpha'));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(refusal).toContain('-32010');
    expect(refusal).toContain('gateway.maxConnectionsPerSocket');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).isError).toBeFalsy();
    expect(byName(await statusJson(h)).alpha?.pid).toBe(byName(before).alpha?.pid);
  });

  it('refuses a reload whose limiter bounds contradict each other, changing nothing', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    writeFileSync(
      h.configFile,
      JSON.stringify({ children: NO_BUILTINS, mcpServers: { alpha: fixture() }, limiter: { minRps: 50, maxRps: 10 } }),
    );
    const result = await h.cli(['reload']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('minRps');
    const client = await h.client('alpha');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'unchanged' } })).isError).toBeFalsy();
  });

  it('runs concurrent reloads one after the other', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    h.writeConfig({ children: NO_BUILTINS, mcpServers: { alpha: fixture(), beta: fixture() } });
    const results = await Promise.all([h.cli(['reload']), h.cli(['reload'])]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(results.filter((r) => r.stdout.includes('started: beta'))).toHaveLength(1);
    expect(results.filter((r) => r.stdout.includes('unchanged: 2 children kept running'))).toHaveLength(1);
    expect((await statusJson(h)).children.map((c) => c.name)).toEqual(['alpha', 'beta']);
  });

  it('adds and removes profiles, and gives a kept profile its new children without dropping its clients', async () => {
    const h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { a: fixture(), b: fixture() },
      profiles: { coding: { children: ['a'] }, old: { children: ['b'] } },
    });
    harnesses.push(h);
    expect((await h.cli(['start'])).code).toBe(0);
    const coding = await h.client('coding');
    let closed = false;
    coding.onclose = () => {
      closed = true;
    };
    expect((await coding.listTools()).tools.map((t) => t.name)).toContain('a__echo');
    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: { a: fixture(), b: fixture() },
      profiles: { coding: { children: ['a', 'b'] }, fresh: { children: ['b'] } },
    });
    const reloaded = await h.cli(['reload']);
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toContain('profiles added: fresh');
    expect(reloaded.stdout).toContain('profiles removed: old');
    expect(existsSync(h.socket('old'))).toBe(false);
    const names = (await coding.listTools()).tools.map((t) => t.name);
    expect(names).toContain('a__echo');
    expect(names).toContain('b__echo');
    const answer = await coding.callTool({ name: 'b__echo', arguments: { text: 'via coding' } });
    expect((answer.content as Array<{ text: string }>)[0]?.text).toBe('via coding');
    expect(closed).toBe(false);
    const fresh = await h.client('fresh');
    expect((await fresh.listTools()).tools.map((t) => t.name)).toContain('b__echo');
  });

  it('reloads on SIGHUP', async () => {
    const h = harness({ alpha: fixture() });
    expect((await h.cli(['start'])).code).toBe(0);
    const before = await statusJson(h);
    h.writeConfig({ children: NO_BUILTINS, mcpServers: { alpha: fixture(), beta: fixture() } });
    process.kill(before.supervisor.pid, 'SIGHUP');
    const after = await waitFor(async () => {
      const status = byName(await statusJson(h));
      return status.beta?.state === 'RUNNING' ? status : undefined;
    }, 30_000);
    expect(after.alpha?.pid).toBe(before.children[0]?.pid);
  });
});

describe('children on demand', () => {
  it('start IDLE, start on the first call through their socket, stop when idle and start again', async () => {
    const h = harness({ eager: fixture(), lazy: { ...fixture(), start: 'on-demand', idleStopSeconds: 1 } });
    const started = await h.cli(['start']);
    expect(started.code).toBe(0);
    const first = byName(await statusJson(h));
    expect(first.eager?.state).toBe('RUNNING');
    expect(first.lazy?.state).toBe('IDLE');
    expect(first.lazy?.pid).toBeNull();
    expect(existsSync(h.socket('lazy'))).toBe(true);
    expect((await h.cli(['status'])).code).toBe(0);

    const client = await h.client('lazy');
    const answer = await client.callTool({ name: 'echo', arguments: { text: 'woken' } });
    expect((answer.content as Array<{ text: string }>)[0]?.text).toBe('woken');
    const running = byName(await statusJson(h)).lazy!;
    expect(running.state).toBe('RUNNING');
    await client.close();

    await waitFor(async () => byName(await statusJson(h)).lazy?.pid === null, 30_000);
    expect(byName(await statusJson(h)).lazy?.state).toBe('IDLE');

    const again = await h.client('lazy');
    const second = await again.callTool({ name: 'echo', arguments: { text: 'again' } });
    expect((second.content as Array<{ text: string }>)[0]?.text).toBe('again');
    const restarted = byName(await statusJson(h)).lazy!;
    expect(restarted.state).toBe('RUNNING');
    expect(restarted.pid).not.toBe(running.pid);
  });

  it('start an IDLE child on the first call through a profile', async () => {
    const h = harness({ eager: fixture(), lazy: { ...fixture(), start: 'on-demand' } });
    expect((await h.cli(['start'])).code).toBe(0);
    expect(byName(await statusJson(h)).lazy?.state).toBe('IDLE');
    const fleet = await h.client('omnimind');
    const answer = await fleet.callTool({ name: 'lazy__echo', arguments: { text: 'through the profile' } });
    expect((answer.content as Array<{ text: string }>)[0]?.text).toBe('through the profile');
    expect(byName(await statusJson(h)).lazy?.state).toBe('RUNNING');
  });

  it('come back IDLE from a restart of the whole fleet, and start when restarted by name', async () => {
    const h = harness({ eager: fixture(), lazy: { ...fixture(), start: 'on-demand' } });
    expect((await h.cli(['start'])).code).toBe(0);
    const client = await h.client('lazy');
    await client.callTool({ name: 'echo', arguments: { text: 'wake' } });
    await client.close();
    const awake = byName(await statusJson(h));
    expect(awake.lazy?.state).toBe('RUNNING');

    expect((await h.cli(['restart'])).code).toBe(0);
    const fleet = byName(await statusJson(h));
    expect(fleet.lazy?.state).toBe('IDLE');
    expect(fleet.lazy?.pid).toBeNull();
    expect(fleet.eager?.state).toBe('RUNNING');
    expect(fleet.eager?.pid).not.toBe(awake.eager?.pid);

    expect((await h.cli(['restart', 'lazy'])).code).toBe(0);
    expect(byName(await statusJson(h)).lazy?.state).toBe('RUNNING');
    expect((await h.cli(['start'])).code).toBe(0);
    expect(byName(await statusJson(h)).lazy?.state).toBe('RUNNING');
  });

  it('answers -32011 with the reason when a start on demand fails', async () => {
    const h = harness({ broken: { ...fixture('--crash-on-start'), start: 'on-demand' } });
    expect((await h.cli(['start'])).code).toBe(0);
    const failure = await h.client('broken').then(
      () => undefined,
      (error: { code?: number; message: string }) => error,
    );
    expect(failure?.code).toBe(-32011);
    expect(failure?.message).toContain('exited with code 1');
    expect(byName(await statusJson(h)).broken?.state).toBe('IDLE');
  });
});

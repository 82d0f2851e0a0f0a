import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';
import { freePort, httpClient, initializeBody, openSession, postHeaders } from '../helpers/http.js';

interface Status {
  supervisor: { pid: number };
  children: Array<{ name: string; clients: number }>;
  http: { sessions: number };
}

/** The resident memory of a process, in MiB. */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(line?.[1]) / 1024;
}

describe('HTTP sessions expire, and what they held is freed', () => {
  let h: Harness;
  let base: string;
  let port: number;
  const status = async () => JSON.parse((await h.cli(['status', '--json'])).stdout) as Status;

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}`, auth: 'none', sessionIdleSeconds: 2, maxSessionsPerCredential: 20_000 },
      // Sessions take places in gateway.maxConnections: room for the 10,000 abandoned ones at once.
      gateway: { maxFrameBytes: 65_536, maxConnections: 20_000 },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('answers 404 once a session expired; the client initializes again', async () => {
    const { client } = await httpClient(`${base}/mcp/fx`, undefined);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'a' } })).content).toEqual([
      { type: 'text', text: 'a' },
    ]);
    await waitFor(async () => (await status()).http.sessions === 0, 20_000);
    await expect(client.callTool({ name: 'echo', arguments: { text: 'b' } })).rejects.toThrow(/404|not found/i);
    await client.close();
    const { client: again } = await httpClient(`${base}/mcp/fx`, undefined);
    expect((await again.callTool({ name: 'echo', arguments: { text: 'c' } })).content).toEqual([
      { type: 'text', text: 'c' },
    ]);
    await again.close();
  });

  it('frees 10,000 opened and abandoned sessions', async () => {
    const { supervisor } = await status();
    const round = async () => {
      let next = 0;
      const worker = async () => {
        while (next < 10_000) {
          next++;
          const response = await fetch(`${base}/mcp/fx`, {
            method: 'POST',
            headers: postHeaders(undefined, { Accept: 'application/json' }),
            body: initializeBody(),
          });
          expect(response.status).toBe(200);
          await response.text();
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      expect((await status()).http.sessions).toBeGreaterThan(0);
      const opened = rssMiB(supervisor.pid);
      await waitFor(async () => {
        const s = await status();
        return s.http.sessions === 0 && s.children.every((c) => c.clients === 0);
      }, 60_000);
      return { opened, expired: rssMiB(supervisor.pid) };
    };
    const before = rssMiB(supervisor.pid);
    const { opened, expired } = await round();
    // Resident memory is logged, not asserted: V8 keeps freed pages, so RSS says little about what sessions hold.
    console.log(
      `10,000 sessions: RSS ${before.toFixed(1)} MiB at start, ${opened.toFixed(1)} opened, ${expired.toFixed(1)} expired`,
    );
  }, 120_000);

  it('closes an SSE response its client never reads', async () => {
    const url = `${base}/mcp/fx`;
    const session = await openSession(url, undefined, '2025-03-26');
    const value = 'v'.repeat(60_000);
    const write = await fetch(url, {
      method: 'POST',
      headers: postHeaders(undefined, { 'Mcp-Session-Id': session, Accept: 'application/json' }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'write', arguments: { key: 'big', value } },
      }),
    });
    expect(write.status).toBe(200);
    // 400 answers of 60 kB each on one SSE response: far beyond what the server holds for a client that reads nothing.
    const batch = JSON.stringify(
      Array.from({ length: 400 }, (_, i) => ({
        jsonrpc: '2.0',
        id: i + 2,
        method: 'tools/call',
        params: { name: 'read', arguments: { key: 'big' } },
      })),
    );
    const log = join(h.home, 'logs', 'supervisor.log');
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause();
    socket.write(
      `POST /mcp/fx HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${session}\r\nContent-Length: ${Buffer.byteLength(batch)}\r\n\r\n${batch}`,
    );
    await waitFor(
      () => readFileSync(log, 'utf8').includes(`HTTP session ${session} (anonymous): closed a stream`),
      30_000,
    );
    // What the client reads once it wakes up ends short of the 400 answers: the server dropped the rest.
    let received = '';
    socket.on('data', (d: Buffer) => {
      received += d.toString();
    });
    await new Promise((resolve) => socket.on('close', resolve).resume());
    const answers = received.split('\n').filter((line) => line.startsWith('data: ')).length;
    expect(answers).toBeLessThan(400);
  }, 60_000);
});

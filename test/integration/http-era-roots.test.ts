import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createHarness, type Harness, NO_BUILTINS } from '../helpers/harness.js';
import { freePort, MODERN_REVISION, textOf } from '../helpers/http.js';

describe('2026-07-28 clients get their own roots, never the configured ones nor another client’s', () => {
  let h: Harness;
  let base: string;
  let token: string;
  let root: string;
  const clients: Client[] = [];

  /** A 2026-07-28 client that declares roots and answers `roots/list` with `dir`; over HTTP, or the socket. */
  async function rootedClient(dir: string, over: 'http' | 'socket'): Promise<Client> {
    const client = new Client(
      { name: `roots-${over}`, version: '1.0.0' },
      { capabilities: { roots: {} }, versionNegotiation: { mode: { pin: MODERN_REVISION } } },
    );
    client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: pathToFileURL(dir).href, name: 'mine' }] }));
    await client.connect(
      over === 'http'
        ? new StreamableHTTPClientTransport(new URL(`${base}/mcp/filesystem`), {
            requestInit: { headers: { Authorization: `Bearer ${token}` } },
          })
        : new StdioClientTransport({
            command: process.execPath,
            args: [CLI, 'connect', 'filesystem'],
            env: h.env as Record<string, string>,
          }),
    );
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'om-roots-')));
    for (const name of ['a', 'b']) {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'secret.txt'), `secret of ${name}`);
    }
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: { ...NO_BUILTINS, filesystem: { roots: [root] } },
      http: { listen: `127.0.0.1:${port}` },
    });
    token = (await h.cli(['token', 'create', 'roots'])).stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('confines each of two concurrent clients on one child to its own roots', async () => {
    const [a, b, socketB] = await Promise.all([
      rootedClient(join(root, 'a'), 'http'),
      rootedClient(join(root, 'b'), 'http'),
      rootedClient(join(root, 'b'), 'socket'),
    ]);
    const allowed = async (client: Client) =>
      textOf(await client.callTool({ name: 'list_allowed_directories', arguments: {} }));
    const read = async (client: Client, name: string) =>
      textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, name, 'secret.txt') } }));
    // Interleaved rounds, so that any state shared between the clients' requests would show.
    for (let round = 0; round < 5; round++) {
      const [seenA, seenB, seenSocketB, readA, readB, stolenByB, stolenBySocketB] = await Promise.all([
        allowed(a),
        allowed(b),
        allowed(socketB),
        read(a, 'a'),
        read(b, 'b'),
        read(b, 'a'),
        read(socketB, 'a'),
      ]);
      expect(seenA).toContain(join(root, 'a'));
      expect(seenA).not.toContain(join(root, 'b'));
      for (const seen of [seenB, seenSocketB]) {
        expect(seen).toContain(join(root, 'b'));
        expect(seen).not.toContain(join(root, 'a'));
        // The configured root itself is never what a client with roots gets.
        expect(seen.split('\n')).not.toContain(root);
      }
      expect(readA).toBe('secret of a');
      expect(readB).toBe('secret of b');
      expect(stolenByB).not.toContain('secret of a');
      expect(stolenBySocketB).not.toContain('secret of a');
    }
    expect(a.getProtocolEra()).toBe('modern');
    expect(socketB.getProtocolEra()).toBe('modern');
  });
});

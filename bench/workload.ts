import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createHarness, type Harness, seedMemoryGraph } from '../test/helpers/harness.js';
import { SocketClientTransport } from '../test/helpers/socket-transport.js';

/** Concurrent MCP SDK clients, as the load goal states. */
export const CLIENTS = 64;
/** Share of writes in the mix. */
export const WRITE_SHARE = 0.3;

/** One tool call of the mix; `readOnly` calls must survive a child restart (the gateway replays them). */
export interface Op {
  child: string;
  tool: string;
  readOnly: boolean;
  args: (i: number) => Record<string, unknown>;
}

/** Per child: a small set of repeated reads and a write, weighted by how often clients would use the child. */
interface ChildMix {
  weight: number;
  reads: Op[];
  write: Op;
}

const read = (child: string, tool: string, args: Op['args']): Op => ({ child, tool, readOnly: true, args });
const write = (child: string, tool: string, args: Op['args']): Op => ({ child, tool, readOnly: false, args });

function mixes(root: string): ChildMix[] {
  return [
    {
      weight: 30,
      reads: [
        read('memory', 'search_nodes', (i) => ({ query: `topic${i % 10}` })),
        read('memory', 'open_nodes', (i) => ({ names: [`entity${i % 20}`] })),
      ],
      write: write('memory', 'add_observations', (i) => ({
        observations: [{ entityName: `entity${i % 20}`, contents: [`observation ${i}`] }],
      })),
    },
    {
      weight: 20,
      reads: [read('context', 'retrieve_context', (i) => ({ level: 'project', query: `topic${i % 10}`, limit: 5 }))],
      write: write('context', 'store_context', (i) => ({ level: 'task', content: `note ${i} about topic${i % 10}` })),
    },
    {
      weight: 20,
      reads: [
        read('filesystem', 'read_text_file', (i) => ({ path: join(root, `file${i % 10}.txt`) })),
        read('filesystem', 'list_directory', () => ({ path: root })),
      ],
      write: write('filesystem', 'write_file', (i) => ({ path: join(root, `out${i % 10}.txt`), content: `v${i}` })),
    },
    {
      weight: 20,
      reads: [read('sqlite', 'read_query', (i) => ({ query: `SELECT * FROM items WHERE id = ${i % 50}` }))],
      write: write('sqlite', 'write_query', (i) => ({
        query: `UPDATE items SET hits = hits + 1 WHERE id = ${i % 50}`,
      })),
    },
    {
      weight: 5,
      reads: [read('thinking', 'list_sessions', () => ({}))],
      write: write('thinking', 'sequentialthinking', (i) => ({
        thought: `step ${i}`,
        thoughtNumber: 1,
        totalThoughts: 3,
        nextThoughtNeeded: true,
      })),
    },
    {
      weight: 4,
      reads: [
        read('git', 'git_status', () => ({ repo_path: root })),
        read('git', 'git_log', () => ({ repo_path: root, max_count: 5 })),
      ],
      write: read('git', 'git_status', () => ({ repo_path: root })),
    },
    {
      weight: 1,
      reads: [read('python', 'python_info', () => ({}))],
      write: read('python', 'python_info', () => ({})),
    },
  ];
}

/** A load client: the SDK client of the moment (replaced when the supervisor restarts) and its share of the mix. */
interface LoadClient {
  client: Client;
  readonly mix: ChildMix;
}

/** A started omnimind with all seven built-in children, seeded data and connected clients. */
export interface MixedLoad {
  h: Harness;
  clients: LoadClient[];
  /**
   * Runs every client in a closed loop until `stop()` returns true, reporting each call's outcome. A client whose
   * connection closed (the supervisor was killed) reconnects, every 50 ms until the socket answers again.
   */
  drive(stop: () => boolean, onResult: (op: Op, ms: number, error?: Error) => void): Promise<void>;
  close(): Promise<void>;
}

/** Connects an SDK client to a child's socket. */
async function connectClient(socket: string): Promise<Client> {
  const client = new Client({ name: 'load', version: '1' });
  await client.connect(new SocketClientTransport(socket));
  return client;
}

/** Replaces a closed client with a new connection; false while the socket does not answer. */
async function reconnect(h: Harness, entry: LoadClient): Promise<boolean> {
  try {
    entry.client = await connectClient(h.socket(entry.mix.write.child));
    return true;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return false;
  }
}

/**
 * Starts omnimind (with `config` merged over the workload's own; `beforeStart` may prepare its home) and connects
 * `CLIENTS` SDK clients, spread over the children by weight.
 */
export async function startMixedLoad(
  config: Record<string, unknown> = {},
  beforeStart: (h: Harness) => void = () => {},
): Promise<MixedLoad> {
  const h = createHarness({});
  const root = join(h.dir, 'project');
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(root, `file${i}.txt`), `file ${i} `.repeat(50));
  execFileSync('git', ['init', '-q', root]);
  execFileSync('git', ['-C', root, 'add', '.']);
  execFileSync('git', ['-C', root, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init']);
  h.writeConfig({
    ...config,
    children: {
      filesystem: { roots: [root] },
      git: { repositories: [root] },
      sqlite: { database: join(h.dir, 'bench.db') },
    },
  });
  const clients: MixedLoad['clients'] = [];
  const close = async () => {
    await Promise.all(clients.map(({ client }) => client.close().catch(() => {})));
    await h.cleanup();
  };
  try {
    beforeStart(h);
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    if (started.code !== 0) throw new Error(`start failed: ${started.stderr}`);
    await seed(h);
    const all = mixes(root);
    const weights = all.flatMap((mix, index) => Array.from({ length: mix.weight }, () => index));
    for (let i = 0; i < CLIENTS; i++) {
      const mix = all[weights[Math.floor((i * weights.length) / CLIENTS)]!]!;
      clients.push({ client: await connectClient(h.socket(mix.write.child)), mix });
    }
  } catch (error) {
    await close();
    throw error;
  }
  const drive: MixedLoad['drive'] = (stop, onResult) =>
    Promise.all(
      clients.map(async (entry, c) => {
        const { mix } = entry;
        for (let i = c * 1000; !stop(); i++) {
          // The SDK drops a client's transport when its connection closes.
          if (entry.client.transport === undefined && !(await reconnect(h, entry))) continue;
          const op = Math.random() < WRITE_SHARE ? mix.write : mix.reads[i % mix.reads.length]!;
          const t0 = performance.now();
          try {
            const result = await entry.client.callTool({ name: op.tool, arguments: op.args(i) });
            if (result.isError)
              throw new Error(`tool error ${op.child}/${op.tool}: ${JSON.stringify(result.content).slice(0, 120)}`);
            onResult(op, performance.now() - t0);
          } catch (error) {
            onResult(op, performance.now() - t0, error as Error);
          }
        }
      }),
    ).then(() => {});
  return { h, clients, drive, close };
}

/** The data the reads find: 20 memory entities and a 50-row sqlite table. */
async function seed(h: Harness): Promise<void> {
  const memory = await h.client('memory');
  await seedMemoryGraph(memory);
  const sqlite = await h.client('sqlite');
  await sqlite.callTool({
    name: 'create_table',
    arguments: { query: 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, hits INTEGER DEFAULT 0)' },
  });
  await sqlite.callTool({
    name: 'write_query',
    arguments: {
      query: `INSERT INTO items (id, name) VALUES ${Array.from({ length: 50 }, (_, i) => `(${i}, 'item${i}')`).join(',')}`,
    },
  });
}

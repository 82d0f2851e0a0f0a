import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { builtinChildEntry } from '../src/config/index.js';
import { percentile } from './driver.js';
import type { BenchSection } from './types.js';

const CHILD = builtinChildEntry('memory');
const REFERENCE = resolve('node_modules/@modelcontextprotocol/server-memory/dist/index.js');

/** Graph size: 10,000 entities of 10 observations each, i.e. 100,000 observations. */
const ENTITIES = 10_000;
const OBSERVATIONS_PER_ENTITY = 10;
/** Entities per create_entities call while loading the graph. */
const LOAD_BATCH = 500;
/** Single-entity writes timed on the full graph: more for omnimind, fewer for the reference (each rewrites 5 MB). */
const OURS_WRITES = 300;
const REFERENCE_WRITES = 40;
/** search_nodes calls timed on the full graph (the reference re-reads its whole file on every call). */
const OURS_SEARCHES = 1_000;
const REFERENCE_SEARCHES = 100;
/** Goals: search p99 in ms, and how many times faster a write must be than the reference's. */
const SEARCH_P99_GOAL_MS = 10;
const WRITE_SPEEDUP_GOAL = 10;
/** Queries matching at most this many entities count as selective: what an assistant looks up by name or keyword. */
const SELECTIVE_MAX = 100;

/** A seeded generator, so both servers get the same data and queries in every run. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const random = makeRandom(42);
const LETTERS = 'etaoinshrdlcumwfgypbvkjxqz';
/** A word of 3 to 10 letters, common letters more likely, so trigram frequencies are skewed as in real text. */
const makeWord = () =>
  Array.from({ length: 3 + Math.floor(random() * 8) }, () => LETTERS[Math.floor(random() ** 1.7 * 26)]).join('');
const VOCABULARY = Array.from({ length: 30_000 }, makeWord);
/** A Zipf-like pick: a few words are very common, most are rare. */
const pickWord = () => VOCABULARY[Math.floor(random() ** 3 * VOCABULARY.length)] as string;
const TYPES = Array.from({ length: 20 }, (_, i) => `type${i}`);

function makeEntity(i: number) {
  return {
    name: `entity-${i}`,
    entityType: TYPES[i % TYPES.length] as string,
    observations: Array.from({ length: OBSERVATIONS_PER_ENTITY }, () => Array.from({ length: 7 }, pickWord).join(' ')),
  };
}

const GRAPH = Array.from({ length: ENTITIES }, (_, i) => makeEntity(i));

/** Words of 5+ letters: a 3-letter query such as "ate" matches most of the graph, a result over the SDK's 10 MiB limit. */
const QUERY_WORDS = VOCABULARY.filter((word) => word.length >= 5);

/** A query: an entity name, a random vocabulary word of 5+ letters, or a 6-12 character slice of a stored observation. */
function makeQuery(i: number): string {
  if (i % 3 === 0) return `entity-${Math.floor(random() * ENTITIES)}`;
  if (i % 3 === 1) return QUERY_WORDS[Math.floor(random() * QUERY_WORDS.length)] as string;
  const entity = GRAPH[Math.floor(random() * ENTITIES)];
  const observation = entity?.observations[Math.floor(random() * OBSERVATIONS_PER_ENTITY)] ?? '';
  const start = Math.floor(random() * Math.max(1, observation.length - 12));
  return observation.slice(start, start + 6 + Math.floor(random() * 7));
}

const QUERIES = Array.from({ length: OURS_SEARCHES }, (_, i) => makeQuery(i));

interface Server {
  client: Client;
  close: () => Promise<void>;
}

async function startServer(entry: string, env: Record<string, string>): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry],
    env: { ...(process.env as Record<string, string>), ...env },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'memory-bench', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

async function timeCall(server: Server, name: string, args: Record<string, unknown>) {
  const start = performance.now();
  const result = (await server.client.callTool({ name, arguments: args }, undefined, {
    timeout: 600_000,
  })) as CallToolResult;
  const elapsed = performance.now() - start;
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return { elapsed, result };
}

const mean = (samples: readonly number[]) => samples.reduce((a, b) => a + b, 0) / samples.length;

interface Figures {
  loadSeconds: number;
  writeMs: number[];
  searchMs: number[];
  /** For each search, the sorted names of the entities found. */
  found: string[][];
}

/** Loads the graph, then times single-entity writes and searches on it. */
async function measure(server: Server, writes: number, searches: number): Promise<Figures> {
  const loadStart = performance.now();
  for (let i = 0; i < ENTITIES; i += LOAD_BATCH) {
    await timeCall(server, 'create_entities', { entities: GRAPH.slice(i, i + LOAD_BATCH) });
  }
  const loadSeconds = (performance.now() - loadStart) / 1_000;
  const writeMs: number[] = [];
  for (let i = 0; i < writes; i++) {
    writeMs.push((await timeCall(server, 'create_entities', { entities: [makeEntity(ENTITIES + i)] })).elapsed);
  }
  // Remove the timed writes again so both servers are searched on the same graph.
  const written = Array.from({ length: writes }, (_, i) => `entity-${ENTITIES + i}`);
  await timeCall(server, 'delete_entities', { entityNames: written });
  const searchMs: number[] = [];
  const found: string[][] = [];
  for (let i = 0; i < searches; i++) {
    const { elapsed, result } = await timeCall(server, 'search_nodes', { query: QUERIES[i] });
    searchMs.push(elapsed);
    const entities = (result.structuredContent?.entities ?? []) as { name: string }[];
    found.push(entities.map((e) => e.name).sort());
  }
  return { loadSeconds, writeMs, searchMs, found };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const times = (value: number) => `${value.toFixed(1)}×`;
const verdict = (met: boolean) => (met ? 'met' : 'missed');

/** Measures omnimind's memory child and the reference server-memory on the same data in one run. */
export async function run(): Promise<BenchSection> {
  if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'omnimind-bench-memory-'));
  try {
    const ours = await startServer(CHILD, { OMNIMIND_DATA_DIR: join(dir, 'data') });
    const oursFigures = await measure(ours, OURS_WRITES, OURS_SEARCHES).finally(() => ours.close());
    const reference = await startServer(REFERENCE, { MEMORY_FILE_PATH: join(dir, 'reference.jsonl') });
    const refFigures = await measure(reference, REFERENCE_WRITES, REFERENCE_SEARCHES).finally(() => reference.close());

    const disagreements = refFigures.found.filter(
      (names, i) => JSON.stringify(names) !== JSON.stringify(oursFigures.found[i]),
    ).length;
    if (disagreements > 0) throw new Error(`search_nodes returned different sets for ${disagreements} queries`);
    const sizes = oursFigures.found.map((names) => names.length);
    const selective = (figures: Figures) => figures.searchMs.filter((_, i) => (sizes[i] ?? 0) <= SELECTIVE_MAX);
    const observations = ENTITIES * OBSERVATIONS_PER_ENTITY;
    const count = (n: number) => n.toLocaleString('en');
    const oursLoadRate = observations / oursFigures.loadSeconds;
    const refLoadRate = observations / refFigures.loadSeconds;
    const writeSpeedup = mean(refFigures.writeMs) / mean(oursFigures.writeMs);
    const searchRow = (label: string, ours: number, theirs: number, goal = '—') =>
      `| ${label} | ${ms(ours)} | ${ms(theirs)} | ${times(theirs / ours)} | ${goal} |`;
    const p99Goal = (value: number) => `≤ ${SEARCH_P99_GOAL_MS} ms: ${verdict(value <= SEARCH_P99_GOAL_MS)}`;
    const oursP99 = percentile(oursFigures.searchMs, 0.99);
    const oursSelectiveP99 = percentile(selective(oursFigures), 0.99);
    const rows = [
      '| measure | omnimind memory | reference server-memory | omnimind faster by | goal |',
      '|---|---|---|---|---|',
      `| create: load ${count(ENTITIES)} entities / ${count(observations)} observations, ${LOAD_BATCH} entities ` +
        `per call | ${count(Math.round(oursLoadRate))} obs/s | ${count(Math.round(refLoadRate))} obs/s | ` +
        `${times(oursLoadRate / refLoadRate)} | — |`,
      `| create: one entity (${OBSERVATIONS_PER_ENTITY} observations) per call at ${count(ENTITIES)} entities | ` +
        `${count(Math.round((OBSERVATIONS_PER_ENTITY * 1_000) / mean(oursFigures.writeMs)))} obs/s | ` +
        `${count(Math.round((OBSERVATIONS_PER_ENTITY * 1_000) / mean(refFigures.writeMs)))} obs/s | ` +
        `${times(writeSpeedup)} | ≥ ${WRITE_SPEEDUP_GOAL}×: ${verdict(writeSpeedup >= WRITE_SPEEDUP_GOAL)} |`,
      searchRow(
        `one create_entities call at ${count(ENTITIES)} entities, mean latency`,
        mean(oursFigures.writeMs),
        mean(refFigures.writeMs),
      ),
      searchRow(
        `search_nodes at ${count(observations)} observations, p50`,
        percentile(oursFigures.searchMs, 0.5),
        percentile(refFigures.searchMs, 0.5),
      ),
      searchRow(
        `search_nodes, p99 of queries matching ≤ ${SELECTIVE_MAX} entities`,
        oursSelectiveP99,
        percentile(selective(refFigures), 0.99),
        p99Goal(oursSelectiveP99),
      ),
      searchRow('search_nodes, p99 of all queries', oursP99, percentile(refFigures.searchMs, 0.99), p99Goal(oursP99)),
    ];
    const notes = [
      '',
      `Both servers run as child processes behind the MCP SDK client over stdio, on the same seeded data, one after ` +
        `the other in this run. Latencies are client round trips. Writes: ${OURS_WRITES} single-entity calls on ` +
        `omnimind, ${REFERENCE_WRITES} on the reference (each of its writes re-reads and rewrites its whole ` +
        `JSONL file). Searches: ${OURS_SEARCHES} on omnimind, the first ${REFERENCE_SEARCHES} of the same queries ` +
        `on the reference, which returned the same entity sets. Queries are entity names, vocabulary words and ` +
        `6-12 character slices of stored observations; they matched ${mean(sizes).toFixed(1)} entities on average ` +
        `(at most ${Math.max(...sizes)}; ${sizes.filter((n) => n <= SELECTIVE_MAX).length} of ${sizes.length} matched ` +
        `≤ ${SELECTIVE_MAX}). A broad query's latency is dominated by the size of its answer, the same full ` +
        `entities in both servers (about 1 MB of JSON per 1,000 entities).`,
    ];
    return {
      title: 'Memory: omnimind vs @modelcontextprotocol/server-memory',
      command: 'npx tsx bench/memory.ts',
      markdown: [...rows, ...notes].join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await run();
  process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
}

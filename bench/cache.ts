import { hash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LRUCache } from 'lru-cache';
import {
  AdmissionLru,
  type CacheOutcome,
  deriveKey,
  L2Store,
  MAX_PLAIN_KEY_LENGTH,
  ResponseCache,
  stringifyParams,
} from '../src/cache/index.js';
import { createRandom, createZipfTrace } from './random.js';
import type { BenchSection } from './types.js';

/** Distinct keys of the Zipf trace. */
const ZIPF_KEYS = 100_000;

/** Zipf exponent of the trace: 0.99 is the usual stand-in for web and API request popularity. */
const ZIPF_EXPONENT = 0.99;

/** Requests in the trace: ten per key, enough for the policies to reach their steady state. */
const TRACE_LENGTH = 1_000_000;

/** Cache room: 10 % of the keys. */
const CAPACITY = ZIPF_KEYS / 10;

/** Accounted bytes per entry in the byte-bounded L1, equal for all entries as the trace assumes. */
const ENTRY_BYTES = 1024;

/** Default L2 cap, the figure the churn run must stay under. */
const L2_CAP_BYTES = 10 * 1024 * 1024;

/** Hits of the offline optimum (Belady's MIN, allowed to bypass), over a count-bounded cache. */
function countBeladyHits(trace: Int32Array, keys: number, capacity: number): number {
  const length = trace.length;
  const nextUse = new Int32Array(length);
  const seen = new Int32Array(keys).fill(length);
  for (let i = length - 1; i >= 0; i--) {
    nextUse[i] = seen[trace[i]!]!;
    seen[trace[i]!] = i;
  }
  // Max-heap on next use with lazy deletion: an element is current if it matches the key's recorded next use.
  const heapUse: number[] = [];
  const heapKey: number[] = [];
  const current = new Int32Array(keys).fill(-1);
  const swap = (a: number, b: number) => {
    [heapUse[a], heapUse[b]] = [heapUse[b]!, heapUse[a]!];
    [heapKey[a], heapKey[b]] = [heapKey[b]!, heapKey[a]!];
  };
  const push = (use: number, key: number) => {
    heapUse.push(use);
    heapKey.push(key);
    for (let i = heapUse.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heapUse[parent]! >= heapUse[i]!) break;
      swap(parent, i);
      i = parent;
    }
  };
  const pop = () => {
    const lastUse = heapUse.pop()!;
    const lastKey = heapKey.pop()!;
    if (heapUse.length === 0) return;
    heapUse[0] = lastUse;
    heapKey[0] = lastKey;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      let largest = i;
      if (left < heapUse.length && heapUse[left]! > heapUse[largest]!) largest = left;
      if (left + 1 < heapUse.length && heapUse[left + 1]! > heapUse[largest]!) largest = left + 1;
      if (largest === i) break;
      swap(largest, i);
      i = largest;
    }
  };
  const farthest = () => {
    while (heapUse.length > 0 && current[heapKey[0]!] !== heapUse[0]) pop();
    return heapUse.length > 0 ? heapUse[0]! : -1;
  };
  let size = 0;
  let hits = 0;
  for (let i = 0; i < length; i++) {
    const key = trace[i]!;
    const use = nextUse[i]!;
    if (current[key] !== -1) {
      hits++;
      current[key] = use;
      push(use, key);
    } else if (use < length) {
      if (size < capacity) size++;
      else if (farthest() > use) {
        current[heapKey[0]!] = -1;
        pop();
      } else continue;
      current[key] = use;
      push(use, key);
    }
  }
  return hits;
}

/** Hit ratio section: plain LRU and the L1 policy against Belady on the same trace. */
function measureHitRatio(): string {
  const trace = createZipfTrace(ZIPF_KEYS, ZIPF_EXPONENT, TRACE_LENGTH, 42);
  const names = Array.from({ length: ZIPF_KEYS }, (_, i) =>
    deriveKey('memory', 'tools/call', { name: 'search_nodes', arguments: { query: `q${i}` } }),
  );
  const lru = new LRUCache<string, true>({ max: CAPACITY });
  let lruHits = 0;
  for (const index of trace) {
    const key = names[index]!;
    if (lru.get(key) === undefined) lru.set(key, true);
    else lruHits++;
  }
  const l1 = new AdmissionLru<{ bytes: number }>({ maxBytes: CAPACITY * ENTRY_BYTES });
  const value = { bytes: ENTRY_BYTES };
  let l1Hits = 0;
  for (const index of trace) {
    const key = names[index]!;
    if (l1.get(key) === undefined) l1.set(key, value);
    else l1Hits++;
  }
  const optimum = countBeladyHits(trace, ZIPF_KEYS, CAPACITY);
  const row = (name: string, hits: number, goal: string) =>
    `| ${name} | ${(hits / TRACE_LENGTH).toFixed(4)} | ${(hits / optimum).toFixed(3)}× | ${goal} |`;
  const goalMet = l1Hits / optimum >= 0.9 ? 'met (≥ 0.9×)' : 'MISSED (< 0.9×)';
  return [
    `(b) Hit ratio, Zipf(${ZIPF_EXPONENT}) over ${ZIPF_KEYS.toLocaleString('en')} keys, ${TRACE_LENGTH.toLocaleString('en')} requests, room for ${CAPACITY.toLocaleString('en')} (10 %, byte-bounded with equal sizes):`,
    '',
    '| policy | hit ratio | of optimum | goal |',
    '|---|---|---|---|',
    row('Belady (offline optimum, with bypass)', optimum, '—'),
    row('plain LRU (lru-cache)', lruHits, '—'),
    row('L1: lru-cache + TinyLFU admission', l1Hits, goalMet),
  ].join('\n');
}

/** Nanoseconds per call of `fn`, the median of five timed rounds after a warm-up. */
function timeNs(fn: () => unknown, rounds: number): number {
  for (let i = 0; i < rounds / 10; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / rounds);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

/** Key derivation section: canonical text used as the key vs. its SHA-1 or MD5 digest, lookup included. */
function measureKeyDerivation(): string {
  const lines = [
    '(d, key) Key derivation + Map lookup per request, ns (canonical stringify included in every column):',
    '',
    '| params size | canonical text only | plain key | sha1 digest | md5 digest | used |',
    '|---|---|---|---|---|---|',
  ];
  for (const size of [40, 400, 4_000, 40_000]) {
    const params = {
      name: 'search_nodes',
      arguments: { query: 'x'.repeat(size), limit: 10, filter: { b: 1, a: [1, 2] } },
    };
    const plainText = () => `memory\u0000tools/call\u0000${stringifyParams(params)}`;
    const map = new Map<string, number>();
    map.set(plainText(), 1);
    map.set(hash('sha1', plainText(), 'base64'), 1);
    map.set(hash('md5', plainText(), 'base64'), 1);
    const rounds = size > 10_000 ? 500 : 10_000;
    const canonical = timeNs(plainText, rounds);
    const plain = timeNs(() => map.get(plainText()), rounds);
    const sha1 = timeNs(() => map.get(hash('sha1', plainText(), 'base64')), rounds);
    const md5 = timeNs(() => map.get(hash('md5', plainText(), 'base64')), rounds);
    const used = plainText().length <= MAX_PLAIN_KEY_LENGTH ? 'plain' : 'sha1';
    lines.push(
      `| ${plainText().length.toLocaleString('en')} chars | ${canonical.toFixed(0)} | ${plain.toFixed(0)} | ${sha1.toFixed(0)} | ${md5.toFixed(0)} | ${used} |`,
    );
  }
  lines.push(
    '',
    `Keys up to ${MAX_PLAIN_KEY_LENGTH} chars are used as they are: below ~500 chars the digest costs more than it saves. ` +
      'Longer ones are replaced by their SHA-1 (28 chars), which is faster from a few KB on and keeps L1 keys small ' +
      '(V8 hashes only the length of strings over 16 K chars, so plain Map lookups stay cheap there, but such keys would ' +
      'cost their full size in memory). MD5 is never faster than SHA-1 here.',
  );
  return lines.join('\n');
}

/** Percentile of sorted samples. */
function percentile(sorted: Float64Array, share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
}

/** Hit path section: `fetch` of a cached tools/call, key derivation included. */
async function measureHitPath(dir: string): Promise<string> {
  const cache = new ResponseCache({ file: join(dir, 'hit.db') });
  cache.setPolicy('memory', { trusted: true });
  cache.noteTools('memory', [{ name: 'search_nodes', annotations: { readOnlyHint: true, openWorldHint: false } }]);
  const result = JSON.stringify({ content: [{ type: 'text', text: 'y'.repeat(2_000) }] });
  const load = async (): Promise<CacheOutcome> => ({ kind: 'result', json: result });
  const rows: string[] = [];
  for (const [label, query] of [
    ['small params (plain key)', 'alice'],
    ['1 KB params (sha1 key)', 'z'.repeat(1_000)],
  ] as const) {
    const params = { name: 'search_nodes', arguments: { query, limit: 5 }, _meta: { progressToken: 7 } };
    await cache.fetch('memory', 'tools/call', params, load);
    const samples = new Float64Array(100_000);
    for (let i = 0; i < 5_000; i++) await cache.fetch('memory', 'tools/call', params, load);
    for (let i = 0; i < samples.length; i++) {
      const start = process.hrtime.bigint();
      const answer = await cache.fetch('memory', 'tools/call', params, load);
      samples[i] = Number(process.hrtime.bigint() - start) / 1_000;
      if (!answer.cached) throw new Error('the hit path missed');
    }
    samples.sort();
    const p50 = percentile(samples, 0.5);
    rows.push(
      `| ${label} | ${p50.toFixed(2)} | ${percentile(samples, 0.99).toFixed(2)} | ${p50 <= 20 ? 'met' : 'MISSED'} (p50 ≤ 20 µs) |`,
    );
  }
  cache.close();
  return [
    '(d) In-process hit path: `await fetch()` of a cached tools/call (2 KB result), key derivation included, µs:',
    '',
    '| request | p50 | p99 | goal |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Bytes of the L2 file and its companions. */
function sizeOnDisk(file: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) total += statSync(file + suffix).size;
  return total;
}

/** L2 section: point reads per second, and the size under continuous churn. */
async function measureL2(dir: string): Promise<string> {
  const file = join(dir, 'l2.db');
  const store = new L2Store({ file, maxBytes: L2_CAP_BYTES, now: Date.now, warn: (message) => console.warn(message) });
  const json = JSON.stringify({ content: [{ type: 'text', text: 'r'.repeat(200) }] });
  const keyOf = (i: number) => deriveKey('memory', 'tools/call', { name: 'search_nodes', arguments: { i } });
  const stored = 20_000;
  for (let i = 0; i < stored; i++) {
    store.put({ key: keyOf(i), child: 'memory', gen: 1, storedAt: Date.now(), json, bytes: json.length });
    if (i % 1_000 === 999) store.flush();
  }
  store.flush();
  const keys = Array.from({ length: stored }, (_, i) => keyOf(i));
  const random = createRandom(7);
  const reads = 200_000;
  let found = 0;
  const readStart = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) if (store.get(keys[Math.floor(random() * stored)]!) !== undefined) found++;
  const readSeconds = Number(process.hrtime.bigint() - readStart) / 1e9;
  if (found !== reads) throw new Error(`L2 lost entries: ${found}/${reads}`);

  // Churn: 100k new entries (~4x the room) written as a stream, reads mixed in, size sampled after every flush.
  const churn = 100_000;
  let largest = sizeOnDisk(file);
  let written = 0;
  const writeStart = process.hrtime.bigint();
  for (let i = 0; i < churn; i++) {
    const key = keyOf(stored + i);
    if (store.put({ key, child: 'memory', gen: 1, storedAt: Date.now(), json, bytes: json.length })) written++;
    if (i % 100 === 99) {
      await new Promise((resolve) => setImmediate(resolve));
      store.get(keyOf(stored + i - 50));
      largest = Math.max(largest, sizeOnDisk(file));
    }
  }
  store.flush();
  const writeSeconds = Number(process.hrtime.bigint() - writeStart) / 1e9;
  largest = Math.max(largest, sizeOnDisk(file));
  const entries = store.count();
  store.close();

  // The same point reads through the cache, with L1 too small to hold anything: fetch → L1 miss → L2 hit.
  const cache = new ResponseCache({ file: join(dir, 'l2-fetch.db'), l1MaxBytes: 1 });
  cache.setPolicy('memory', { trusted: true });
  cache.noteTools('memory', [{ name: 'search_nodes', annotations: { readOnlyHint: true, openWorldHint: false } }]);
  const load = async (): Promise<CacheOutcome> => ({ kind: 'result', json });
  const paramsOf = (i: number) => ({ name: 'search_nodes', arguments: { i } });
  for (let i = 0; i < stored; i++) {
    await cache.fetch('memory', 'tools/call', paramsOf(i), load);
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  cache.flush();
  const fetches = 100_000;
  const fetchStart = process.hrtime.bigint();
  for (let i = 0; i < fetches; i++) {
    const answer = await cache.fetch('memory', 'tools/call', paramsOf(Math.floor(random() * stored)), load);
    if (!answer.cached) throw new Error('an L2 entry was missed');
  }
  const fetchRate = fetches / (Number(process.hrtime.bigint() - fetchStart) / 1e9);
  cache.close();

  const readRate = reads / readSeconds;
  return [
    `(c) L2 (better-sqlite3, WAL, default ${L2_CAP_BYTES / 1024 / 1024} MiB cap), 200-byte results:`,
    '',
    '| figure | value | goal |',
    '|---|---|---|',
    `| point reads (random keys among ${stored.toLocaleString('en')}) | ${Math.round(readRate).toLocaleString('en')} /s | ${readRate >= 100_000 ? 'met' : 'MISSED'} (≥ 100,000 /s) |`,
    `| \`fetch\` answered from L2 (L1 holding nothing) | ${Math.round(fetchRate).toLocaleString('en')} /s | — |`,
    `| writes under churn (${churn.toLocaleString('en')} new entries, batched) | ${Math.round(written / writeSeconds).toLocaleString('en')} /s | — |`,
    `| largest db + wal + shm seen during churn | ${(largest / 1024 / 1024).toFixed(2)} MiB | ${largest <= L2_CAP_BYTES ? 'met' : 'MISSED'} (≤ 10 MiB) |`,
    `| entries kept at the end of churn | ${entries.toLocaleString('en')} | — |`,
  ].join('\n');
}

/** Runs the cache benchmarks and returns their report. */
export async function run(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'omnimind-bench-cache-'));
  try {
    const parts = [measureHitRatio(), measureKeyDerivation(), await measureHitPath(dir), await measureL2(dir)];
    return { title: 'Response cache', command: 'npx tsx bench/cache.ts', markdown: parts.join('\n\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const section = await run();
  console.log(`## ${section.title}\n\n\`${section.command}\`\n\n${section.markdown}`);
}

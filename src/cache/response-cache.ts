import { hash } from 'node:crypto';
import { hostname } from 'node:os';
import { Cancellation, ErrorCode, NEVER_CANCELLED, OmnimindError } from '../protocol/index.js';
import { AdmissionLru } from './admission-lru.js';
import { readHints } from './hints.js';
import { deriveKey, stringifyCanonical } from './key.js';
import { RedisL2 } from './l2-redis.js';
import { L2Store, MIN_L2_MAX_BYTES } from './l2-store.js';
import {
  type CompiledPolicy,
  compilePolicy,
  PLAN_PASS,
  PLAN_WRITE,
  planToolCall,
  readTtlMs,
  type ToolAnnotations,
} from './policy.js';
import type {
  CacheOptions,
  CacheOutcome,
  CacheStats,
  ChildCachePolicy,
  L2Tier,
  RedisL2Config,
  ToolInfo,
} from './types.js';

/** Default L1 budget: 64 MiB holds tens of thousands of typical tool results in the supervisor's memory. */
const DEFAULT_L1_MAX_BYTES = 64 * 1024 * 1024;

/** Default L2 budget: 10 MiB on disk for `cache.db` and its -wal file. */
const DEFAULT_L2_MAX_BYTES = 10 * 1024 * 1024;

/** Default bound on a Redis command: long enough for a round trip on a LAN, short enough not to be felt. */
const DEFAULT_REDIS_TIMEOUT_MS = 50;

/** Requests known to answer `cacheScope: "private"` are remembered up to this many (the oldest are forgotten). */
const MAX_PRIVATE_KEYS = 10_000;

/** Default time to live: 5 minutes bounds how stale an answer changed behind omnimind's back can be. */
const DEFAULT_TTL_SECONDS = 300;

/** Bytes an L1 entry costs besides its JSON and key: the entry object and lru-cache's per-slot arrays. */
const ENTRY_OVERHEAD_BYTES = 96;

/** Entries that depend on the child's data: tool results and resource reads (persisted generation). */
const SCOPE_DATA = 0;

/**
 * Each list method has its own generation, bumped by its list_changed notification (kept in memory only). A Map, so a
 * method a client names (`toString`, `constructor`) never finds something inherited.
 */
const LIST_SCOPES: ReadonlyMap<string, number> = new Map([
  ['tools/list', 1],
  ['prompts/list', 2],
  ['resources/list', 3],
  ['resources/templates/list', 4],
]);

/** Number of scopes, the data scope included. */
const SCOPE_COUNT = 5;

/** A tools/call result is an error when it carries a top-level `"isError": true`; a nested one only stops caching. */
const IS_ERROR_PATTERN = /"isError"\s*:\s*true/;

/** What the cache knows about one child. */
interface ChildState {
  readonly name: string;
  policy: CompiledPolicy;
  /** The tools the child listed in this run; undefined until its first tools/list (every tool is then unknown). */
  tools: ToolAnnotations | undefined;
  /** Digest of the last tool list, prefixed with the child's identity, as recorded in L2. */
  fingerprint: string | null;
  /** Digest of everything that configures the child (command, args, env, cwd, options); unset until configured. */
  identity: string | undefined;
  /** Whether some entries were stored under a caller scope (then one resource update drops all resource reads). */
  scoped: boolean;
  /** Its namespace in a Redis L2: one per host and child, or one per shared child's identity; undefined without Redis. */
  ns: string | undefined;
  /** Whether its answers are shared between hosts (then each L1 hit checks the generation in Redis). */
  shared: boolean;
  /**
   * One generation per scope; an entry is valid while the generation it was stored under is current. The data
   * generation is a random 53-bit number recorded in L2, so no later run can ever recreate an invalidated value.
   */
  gens: number[];
  /** The data generation recorded in L2. */
  persistedGen: number;
  /** Whether L2 may hold rows under `persistedGen` (then a bump must reach the disk before the write runs). */
  persistedHasRows: boolean;
  /** What follows a tool call that may have written, answered or failed: made once per child, not per call. */
  readonly afterWrite: (
    outcome: CacheOutcome,
  ) => (CacheOutcome & { cached: boolean }) | Promise<CacheOutcome & { cached: boolean }>;
  readonly afterFailedWrite: (error: unknown) => Promise<never>;
}

/** One L1 entry. */
interface Entry {
  readonly json: string;
  readonly state: ChildState;
  readonly scope: number;
  readonly gen: number;
  readonly storedAt: number;
  readonly bytes: number;
  /** Whether the entry was also handed to L2 (clear() counts each key once). */
  readonly inL2: boolean;
  /** The result's own `ttlMs`, when shorter than the policy's (Infinity otherwise). */
  readonly maxAgeMs: number;
  /** The Redis generation it was stored under (shared children); undefined when Redis was not reachable. */
  readonly remoteGen: string | undefined;
}

/** Loads one answer from the child; cancelling `cancellation` cancels the request there. */
export type CacheLoader = (cancellation: Cancellation) => Promise<CacheOutcome>;

/** What else a cached request depends on besides its child, method and params. */
export interface FetchOptions {
  /** Cancelled when this caller no longer wants the answer (cancelled, timed out, disconnected). */
  cancellation?: Cancellation;
  /** What else changes the answer for this caller, e.g. its MCP roots (part of the key; '' for none). */
  scope?: string;
  /** Who is asking (token, OAuth subject, local user): answers marked `cacheScope: "private"` stay within it. */
  credential?: string;
}

/** What a cacheable request needs besides its key: who asks, and what its answer may be stored for. */
interface Lookup {
  /** The key before any credential was added (the one private answers are remembered by). */
  readonly baseKey: string;
  readonly credential: string;
  /** Whether this request's answers are known to be private (then `key` includes the credential and L2 is skipped). */
  readonly private: boolean;
  readonly ttlMs: number;
  /** Redis, when the entry's namespace lives there. */
  readonly remote: RedisL2 | undefined;
  /** A valid L1 entry of a shared child, served if Redis confirms its generation (or cannot be asked). */
  readonly known: Entry | undefined;
}

/** How a load through Redis went: whether it was a hit, and the generation to store a loaded answer under. */
interface RemoteOutcome {
  hit: boolean;
  /** The hit is an answer Redis held (not the L1 entry it confirmed): it is copied to L1. */
  fromRedis: boolean;
  storedAt: number;
  gen: string | undefined;
}

/** A load in progress that identical requests join; it is cancelled only once every caller has gone. */
interface Flight {
  readonly gen: number;
  readonly promise: Promise<CacheOutcome>;
  readonly cancellation: Cancellation;
  /** The credential of the caller whose load this is: a private answer is not handed to another. */
  readonly credential: string;
  /** Callers still waiting for the answer. */
  waiters: number;
  /** Set when the answer being loaded was invalidated (resources/updated): it must not be stored. */
  stale: boolean;
}

/** The outcome a caller gets when it gave up on a request before the answer came. */
const ABANDONED: CacheOutcome = {
  kind: 'error',
  error: { code: ErrorCode.RequestTimeout, message: 'Request cancelled or timed out before the child answered' },
};

/** A fresh random data generation. */
function createGeneration(): number {
  return Math.floor(Math.random() * 2 ** 53);
}

/** Checks an integer option. */
function readInteger(name: string, value: number | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) {
    throw new OmnimindError(
      'CACHE_OPTIONS_INVALID',
      `Expected \`${name}\` to be an integer >= ${minimum}, got \`${String(value)}\``,
    );
  }
  return value;
}

/** Runs a loader so that a synchronous throw becomes a rejection. */
function invokeLoad(load: CacheLoader, cancellation: Cancellation): Promise<CacheOutcome> {
  try {
    return load(cancellation);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** An answer that did not come from the cache (written out: a spread copy costs ten times as much on Node 20). */
function uncached(outcome: CacheOutcome): CacheOutcome & { cached: boolean } {
  return outcome.kind === 'result'
    ? { kind: 'result', json: outcome.json, cached: false }
    : { kind: 'error', error: outcome.error, cached: false };
}

/** Whether resources/read params are exactly `{uri}` (plus `_meta`), the only shape resources/updated can match. */
function isPlainResourceRead(params: Record<string, unknown> | undefined): boolean {
  if (params === undefined || typeof params.uri !== 'string') return false;
  for (const key in params) if (key !== 'uri' && key !== '_meta') return false;
  return true;
}

/**
 * How a request to a child is served: PLAN_WRITE (a tool call that may write), PLAN_PASS (not cached), or cached for
 * the returned number of milliseconds.
 */
function planRequest(state: ChildState, method: string, params: Record<string, unknown> | undefined): number {
  if (method === 'tools/call') {
    const name = params?.name;
    return typeof name === 'string' ? planToolCall(state.policy, state.tools, name) : PLAN_WRITE;
  }
  if (state.policy.ttlMs <= 0) return PLAN_PASS;
  if (method === 'resources/read') return isPlainResourceRead(params) ? state.policy.ttlMs : PLAN_PASS;
  return LIST_SCOPES.has(method) ? state.policy.ttlMs : PLAN_PASS;
}

/** Whether an entry is of the current generation and within its time to live. */
function isFresh(entry: Entry, gen: number, ttlMs: number, now: number): boolean {
  return entry.gen === gen && now - entry.storedAt < Math.min(ttlMs, entry.maxAgeMs);
}

/** The generation a cached request's answer depends on: the child's data, or its list's. */
function scopeOf(method: string): number {
  return LIST_SCOPES.get(method) ?? SCOPE_DATA;
}

/**
 * The gateway's shared response cache: L1 in memory (byte-bounded LRU with TinyLFU admission), L2 in SQLite.
 * `fetch` is called for every request routed to a child and decides what is cached and what invalidates it.
 */
export class ResponseCache {
  readonly #now: () => number;
  #defaultTtlMs: number;
  readonly #l1: AdmissionLru<Entry>;
  /** L2, whichever it is: its counters and closing. */
  /** Lookups per tier: answered there, or not (L2 is looked up for data entries only). */
  #l1Hits = 0;
  #l1Misses = 0;
  #l2Hits = 0;
  #l2Misses = 0;
  readonly #tier: L2Tier;
  /** L2 when it is the SQLite file (synchronous reads, generations recorded in the file). */
  readonly #l2: L2Store | undefined;
  /** L2 when it is Redis (asynchronous reads bounded by a timeout, generations kept in Redis). */
  readonly #redis: RedisL2 | undefined;
  /** This host's part of the Redis namespaces of children that are never shared. */
  readonly #instance: string;
  /** Base keys of requests whose answers were private, oldest first. */
  readonly #privateKeys = new Set<string>();
  readonly #children = new Map<string, ChildState>();
  readonly #recorded: Map<string, { gen: number; fingerprint: string | null }>;
  readonly #flights = new Map<string, Flight>();
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.close();
  /** The key the last `peek` derived, and what from (see `#peekedKey`). */
  #peeked:
    | { child: string; method: string; params: Record<string, unknown> | undefined; scope: string; key: string }
    | undefined;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;

  constructor(options: CacheOptions) {
    if (typeof options?.file !== 'string' || options.file === '') {
      throw new OmnimindError(
        'CACHE_OPTIONS_INVALID',
        `Expected \`file\` to be a path, got \`${String(options?.file)}\``,
      );
    }
    const l1MaxBytes = readInteger('l1MaxBytes', options.l1MaxBytes, DEFAULT_L1_MAX_BYTES, 1);
    const l2MaxBytes = readInteger('l2MaxBytes', options.l2MaxBytes, DEFAULT_L2_MAX_BYTES, MIN_L2_MAX_BYTES);
    this.#defaultTtlMs = readTtlMs('ttlSeconds', options.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    this.#now = options.now ?? Date.now;
    const logger = options.logger;
    this.#l1 = new AdmissionLru<Entry>({
      maxBytes: l1MaxBytes,
      isDead: (entry) => entry.gen !== entry.state.gens[entry.scope],
    });
    const warn = (message: string): void => logger?.warn(message);
    const l2 = options.l2 ?? { kind: 'sqlite' };
    if (l2.kind === 'redis') {
      const redis = readRedisConfig(l2);
      this.#redis = new RedisL2({ ...redis, warn });
      this.#tier = this.#redis;
      this.#instance = redis.instance ?? `${hostname()}-${hash('sha1', options.file, 'base64url').slice(0, 8)}`;
    } else {
      this.#l2 = new L2Store({ file: options.file, maxBytes: l2MaxBytes, now: this.#now, warn });
      this.#tier = this.#l2;
      this.#instance = '';
    }
    this.#recorded = this.#l2?.readChildren() ?? new Map();
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.close();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Takes a new default time to live (a reload); it applies to policies set from now on (`setPolicy`). */
  setDefaultTtl(ttlSeconds: number | undefined): void {
    this.#defaultTtlMs = readTtlMs('ttlSeconds', ttlSeconds ?? DEFAULT_TTL_SECONDS);
  }

  /**
   * Sets how a child's answers may be cached (untrusted, default TTL, no overrides until called) and what the child
   * is: `identity` digests everything that configures it. Answers cached under another identity, in this run or an
   * earlier one, are never served again.
   */
  setPolicy(child: string, policy: ChildCachePolicy, identity = ''): void {
    const state = this.#state(child);
    state.policy = compilePolicy(child, policy, this.#defaultTtlMs);
    state.shared = this.#redis !== undefined && policy.shareAs !== undefined;
    if (this.#redis !== undefined) {
      state.ns = state.shared
        ? `s:${policy.shareAs}`
        : `h:${this.#instance}:${child}:${hash('sha1', identity, 'base64url').slice(0, 12)}`;
    }
    const previous = state.identity;
    state.identity = identity;
    const nothingRecorded = state.fingerprint === null && state.persistedGen === 0;
    const recordedHere = state.fingerprint?.startsWith(`${identity}:`) === true;
    if ((previous === undefined || previous === identity) && (nothingRecorded || recordedHere)) return;
    state.fingerprint = null;
    state.tools = undefined;
    this.#invalidate(state);
    this.#persist(state);
    this.#l2?.purgeChild(child, state.gens[SCOPE_DATA]!);
    for (const [key, entry] of [...this.#l1.entries()]) if (entry.state === state) this.#l1.delete(key);
  }

  /**
   * Learns a child's tools (names and annotations) from its complete tools/list result. If they differ from the ones
   * recorded, even by a previous run, the child's cached tool results and resources are dropped. Unpaginated
   * tools/list answers that pass through `fetch` are learnt the same way.
   */
  noteTools(child: string, tools: ToolInfo[]): void {
    const state = this.#state(child);
    const summaries = tools
      .map((tool) => ({ name: tool.name, annotations: tool.annotations }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const digest = hash('sha1', stringifyCanonical(summaries), 'base64');
    const fingerprint = `${state.identity ?? ''}:${digest}`;
    state.tools = new Map(summaries.map((tool) => [tool.name, tool.annotations]));
    if (state.ns !== undefined) this.#redis?.noteFingerprint(state.ns, digest);
    if (state.fingerprint === fingerprint) return;
    const changed = state.fingerprint !== null;
    state.fingerprint = fingerprint;
    if (changed) state.gens[SCOPE_DATA] = createGeneration();
    this.#persist(state);
    if (changed) this.#l2?.purgeChild(child, state.gens[SCOPE_DATA]!);
  }

  /**
   * Answers one request routed to a child: from the cache when the request is cacheable and a valid entry exists,
   * otherwise through `load` (storing the answer when allowed). A tool call that may write invalidates the child's
   * cached results before and after it runs.
   */
  fetch(
    child: string,
    method: string,
    params: Record<string, unknown> | undefined,
    load: CacheLoader,
    options: FetchOptions = {},
  ): Promise<CacheOutcome & { cached: boolean }> {
    const state = this.#state(child);
    const cancellation = options.cancellation ?? NEVER_CANCELLED;
    const scope = options.scope ?? '';
    const credential = options.credential ?? '';
    if (scope !== '') state.scoped = true;
    const plan = planRequest(state, method, params);
    if (plan === PLAN_WRITE) return this.#write(state, load, cancellation);
    if (plan === PLAN_PASS) return this.#pass(load, cancellation);
    const key = this.#peekedKey(child, method, params, scope) ?? deriveKey(child, method, params, scope);
    const learning = method === 'tools/list' && params?.cursor === undefined ? this.#learningTools(child, load) : load;
    const isToolCall = method === 'tools/call';
    return this.#cached(state, scopeOf(method), key, plan, learning, isToolCall, cancellation, credential);
  }

  /**
   * The answer to a request when L1 holds a valid one that needs no asking around (no Redis generation to confirm),
   * counted as a hit; undefined otherwise, and `fetch` does the rest. The gateway answers such a hit at once, without
   * the limiter: it costs the child nothing.
   */
  peek(
    child: string,
    method: string,
    params: Record<string, unknown> | undefined,
    options: FetchOptions = {},
  ): (CacheOutcome & { cached: boolean }) | undefined {
    const state = this.#children.get(child);
    if (state === undefined) return undefined;
    const plan = planRequest(state, method, params);
    if (plan === PLAN_WRITE || plan === PLAN_PASS) return undefined;
    const scope = scopeOf(method);
    const scopeText = options.scope ?? '';
    const baseKey = deriveKey(child, method, params, scopeText);
    this.#peeked = { child, method, params, scope: scopeText, key: baseKey };
    const isPrivate = this.#privateKeys.has(baseKey);
    if (!isPrivate && scope === SCOPE_DATA && state.ns !== undefined && this.#redis !== undefined && state.shared) {
      return undefined;
    }
    const key = isPrivate ? `${baseKey}\u0001${options.credential ?? ''}` : baseKey;
    // Only a hit is counted here (towards the key's frequency too): a miss goes on to `fetch`, which counts it once.
    const known = this.#l1.peek(key);
    if (known === undefined || !isFresh(known, state.gens[scope]!, plan, this.#now())) return undefined;
    this.#l1.get(key);
    this.#hits++;
    this.#l1Hits++;
    return { kind: 'result', json: known.json, cached: true };
  }

  /**
   * The key `peek` derived, if `fetch` now asks for the same request (a miss goes straight on with the same params
   * object): deriving a key costs a canonical encoding of the params, and a digest of long ones. Used once.
   */
  #peekedKey(child: string, method: string, params: Record<string, unknown> | undefined, scope: string) {
    const peeked = this.#peeked;
    this.#peeked = undefined;
    if (peeked === undefined || peeked.params !== params || peeked.child !== child) return undefined;
    return peeked.method === method && peeked.scope === scope ? peeked.key : undefined;
  }

  /** L1's entry for `key` if it is still valid (an outdated one is dropped), else undefined. */
  #validL1(key: string, gen: number, ttlMs: number, now: number): Entry | undefined {
    const known = this.#l1.get(key);
    if (known === undefined) return undefined;
    if (isFresh(known, gen, ttlMs, now)) return known;
    this.#l1.delete(key);
    return undefined;
  }

  /** Applies a child's notification: list_changed drops that list, resources/updated drops that resource. */
  onNotification(child: string, method: string, params: Record<string, unknown> | undefined): void {
    const state = this.#state(child);
    switch (method) {
      case 'notifications/tools/list_changed':
        state.gens[LIST_SCOPES.get('tools/list')!]!++;
        // Until the child is listed again its tools are unknown: their annotations may have changed.
        state.tools = undefined;
        break;
      case 'notifications/prompts/list_changed':
        state.gens[LIST_SCOPES.get('prompts/list')!]!++;
        break;
      case 'notifications/resources/list_changed':
        state.gens[LIST_SCOPES.get('resources/list')!]!++;
        state.gens[LIST_SCOPES.get('resources/templates/list')!]!++;
        this.#bumpData(state);
        break;
      case 'notifications/resources/updated': {
        const uri = params?.uri;
        if (typeof uri !== 'string') break;
        // Reads cached under callers' scopes have keys of their own, and Redis is not scanned: drop every resource
        // read of the child.
        if (state.scoped || state.ns !== undefined) {
          this.#bumpData(state);
          break;
        }
        const key = deriveKey(child, 'resources/read', { uri });
        this.#l1.delete(key);
        this.#l2?.deleteKey(key);
        const flight = this.#flights.get(key);
        if (flight !== undefined) flight.stale = true;
        break;
      }
      default:
        break;
    }
  }

  /** Forgets everything cached for a child that was restarted within this run (its state may be gone). */
  onChildRestart(child: string): void {
    const state = this.#state(child);
    this.#invalidate(state);
    state.tools = undefined;
  }

  /** Removes all entries, or a child's; returns how many distinct entries were removed. */
  clear(child?: string): number {
    const removed = new Set(this.#l2?.clear(child));
    const keys: string[] = [];
    for (const [key, entry] of this.#l1.entries())
      if (child === undefined || entry.state.name === child) keys.push(key);
    for (const key of keys) {
      this.#l1.delete(key);
      removed.add(key);
    }
    // In-flight loads of the cleared entries must not store their answers afterwards.
    if (child === undefined) for (const state of this.#children.values()) this.#invalidate(state);
    else this.#invalidate(this.#state(child));
    return removed.size;
  }

  /** Entry counts, sizes and hit counters, as `omnimind status` shows them. */
  stats(): CacheStats {
    const lookups = this.#hits + this.#misses;
    return {
      l1: {
        entries: this.#l1.size,
        bytes: this.#l1.bytes,
        hits: this.#l1Hits,
        misses: this.#l1Misses,
        evictions: this.#l1.evictions,
      },
      // Redis counts its own lookups; the SQLite file's are counted here. Redis evicts by its own policy, unseen.
      l2: { hits: this.#l2Hits, misses: this.#l2Misses, ...this.#tier.stats(), evictions: this.#l2?.evictions ?? 0 },
      hits: this.#hits,
      misses: this.#misses,
      hitRate: lookups === 0 ? 0 : this.#hits / lookups,
      coalesced: this.#coalesced,
    };
  }

  /** Writes queued L2 entries now instead of on the next turn of the event loop. */
  flush(): void {
    this.#l2?.flush();
  }

  /** Writes pending L2 entries and closes the file; idempotent. The cache keeps answering from L1 afterwards. */
  close(): void {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#tier.close();
  }

  #state(child: string): ChildState {
    let state = this.#children.get(child);
    if (state !== undefined) return state;
    const recorded = this.#recorded.get(child);
    const gens = new Array<number>(SCOPE_COUNT).fill(0);
    gens[SCOPE_DATA] = recorded?.gen ?? createGeneration();
    const created: ChildState = {
      name: child,
      policy: compilePolicy(child, { trusted: false }, this.#defaultTtlMs),
      tools: undefined,
      fingerprint: recorded?.fingerprint ?? null,
      identity: undefined,
      scoped: false,
      ns: undefined,
      shared: false,
      gens,
      persistedGen: recorded?.gen ?? 0,
      persistedHasRows: recorded !== undefined,
      // Other hosts read fresh answers once this one has: the bump reaches Redis (or times out) before the reply.
      afterWrite: (outcome) => {
        const bumped = this.#bumpData(created);
        return bumped === undefined ? uncached(outcome) : bumped.then(() => uncached(outcome));
      },
      afterFailedWrite: async (error) => {
        await this.#bumpData(created);
        throw error;
      },
    };
    state = created;
    this.#children.set(child, state);
    return state;
  }

  /** Moves every generation of a child on, invalidating all its entries and in-flight loads. */
  #invalidate(state: ChildState): void {
    for (let scope = 0; scope < SCOPE_COUNT; scope++) if (scope !== SCOPE_DATA) state.gens[scope]!++;
    this.#bumpData(state);
  }

  /**
   * Invalidates a child's tool results and resource reads. When L2 may hold rows under the recorded generation, the
   * new one is recorded synchronously before the write runs, so no crash can bring those rows back; otherwise it is
   * recorded with the first row stored under it, keeping disk writes off the path of calls that cache nothing.
   */
  #bumpData(state: ChildState): Promise<void> | undefined {
    state.gens[SCOPE_DATA] = createGeneration();
    if (state.persistedHasRows) this.#persist(state);
    return state.ns === undefined ? undefined : this.#redis?.bump(state.ns);
  }

  /** Records the current data generation and tool fingerprint in L2, synchronously. */
  #persist(state: ChildState): void {
    const gen = state.gens[SCOPE_DATA]!;
    this.#l2?.writeChild(state.name, { gen, fingerprint: state.fingerprint });
    if (state.persistedGen !== gen) state.persistedHasRows = false;
    state.persistedGen = gen;
  }

  /** Wraps a tools/list loader so that a complete answer updates what the cache knows of the child's tools. */
  #learningTools(child: string, load: CacheLoader): CacheLoader {
    return async (cancellation) => {
      const outcome = await load(cancellation);
      if (outcome.kind !== 'result') return outcome;
      let result: { tools?: unknown; nextCursor?: unknown } | undefined;
      try {
        result = JSON.parse(outcome.json);
      } catch {
        return outcome;
      }
      if (Array.isArray(result?.tools) && result.nextCursor === undefined) {
        const tools = result.tools.filter((tool): tool is ToolInfo => typeof tool?.name === 'string');
        if (tools.length === result.tools.length) this.noteTools(child, tools);
      }
      return outcome;
    };
  }

  #pass(load: CacheLoader, cancellation: Cancellation): Promise<CacheOutcome & { cached: boolean }> {
    return invokeLoad(load, cancellation).then(uncached);
  }

  /** A tool call that may write: the child's cached results are invalidated before it runs and after it answers. */
  #write(
    state: ChildState,
    load: CacheLoader,
    cancellation: Cancellation,
  ): Promise<CacheOutcome & { cached: boolean }> {
    this.#bumpData(state);
    return invokeLoad(load, cancellation).then(state.afterWrite, state.afterFailedWrite);
  }

  /**
   * The cacheable path: L1, then a load in flight, then L2, then `load`. A request known to answer privately is
   * keyed by its caller's credential too and kept in L1 only.
   */
  #cached(
    state: ChildState,
    scope: number,
    baseKey: string,
    ttlMs: number,
    load: CacheLoader,
    isToolCall: boolean,
    cancellation: Cancellation,
    credential: string,
  ): Promise<CacheOutcome & { cached: boolean }> {
    const isPrivate = this.#privateKeys.has(baseKey);
    const key = isPrivate ? `${baseKey}\u0001${credential}` : baseKey;
    const gen = state.gens[scope]!;
    const now = this.#now();
    const remote = !isPrivate && scope === SCOPE_DATA && state.ns !== undefined ? this.#redis : undefined;
    const known = this.#validL1(key, gen, ttlMs, now);
    if (known !== undefined && (remote === undefined || !state.shared)) {
      this.#hits++;
      this.#l1Hits++;
      return Promise.resolve({ kind: 'result', json: known.json, cached: true });
    }
    this.#l1Misses++;
    const flight = this.#flights.get(key);
    if (flight !== undefined && flight.gen === gen && !flight.stale) {
      this.#hits++;
      this.#coalesced++;
      return this.#wait(flight, cancellation).then((outcome) =>
        flight.credential !== credential && outcome.kind === 'result' && readHints(outcome.json).private
          ? this.#pass(load, cancellation)
          : { ...outcome, cached: true },
      );
    }
    if (scope === SCOPE_DATA && !isPrivate && this.#l2 !== undefined) {
      const row = this.#l2.get(key);
      if (row !== undefined) {
        if (row.gen === gen && row.child === state.name && now - row.storedAt < ttlMs) {
          this.#hits++;
          this.#l2Hits++;
          const { json, storedAt } = row;
          this.#remember(key, {
            json,
            state,
            scope,
            gen,
            storedAt,
            inL2: true,
            maxAgeMs: Number.POSITIVE_INFINITY,
            remoteGen: undefined,
          });
          return Promise.resolve({ kind: 'result', json: row.json, cached: true });
        }
        this.#l2.deleteRow(row.id);
      }
      this.#l2Misses++;
    }
    const lookup: Lookup = { baseKey, credential, private: isPrivate, ttlMs, remote, known };
    return this.#load(state, scope, key, gen, now, load, isToolCall, cancellation, lookup);
  }

  /**
   * Asks Redis before the child: a current L1 entry of a shared child is served when Redis confirms its generation,
   * an entry stored by any host under the current generation is served as it is, and otherwise the child is asked.
   * When Redis cannot answer in time the cache goes on as if it had only L1.
   */
  async #remoteOrLoad(
    state: ChildState,
    key: string,
    lookup: Lookup,
    load: CacheLoader,
    cancellation: Cancellation,
    found: RemoteOutcome,
  ): Promise<CacheOutcome> {
    const read = await lookup.remote!.read(state.ns!, key);
    const { known } = lookup;
    if (read === undefined) {
      if (known === undefined) return load(cancellation);
      found.hit = true;
      return { kind: 'result', json: known.json };
    }
    found.gen = read.gen;
    if (known !== undefined && known.remoteGen === read.gen) {
      found.hit = true;
      return { kind: 'result', json: known.json };
    }
    if (read.json !== null && this.#now() - read.storedAt < lookup.ttlMs) {
      found.hit = true;
      found.fromRedis = true;
      found.storedAt = read.storedAt;
      return { kind: 'result', json: read.json };
    }
    return load(cancellation);
  }

  /**
   * One caller's wait for a shared load: the caller that gives up gets its own abandoned outcome at once, and the
   * load itself is cancelled only when no caller is left.
   */
  #wait(flight: Flight, cancellation: Cancellation): Promise<CacheOutcome> {
    flight.waiters++;
    if (cancellation === NEVER_CANCELLED) return flight.promise;
    return new Promise<CacheOutcome>((resolve) => {
      const leave = (reason: unknown): void => {
        if (--flight.waiters === 0) flight.cancellation.abort(reason);
        resolve(ABANDONED);
      };
      if (cancellation.aborted) return leave(cancellation.reason);
      cancellation.onAbort(leave);
      flight.promise.then((outcome) => {
        cancellation.offAbort(leave);
        resolve(outcome);
      });
    });
  }

  /** Loads a miss once for all identical requests and stores the answer if nothing invalidated it meanwhile. */
  async #load(
    state: ChildState,
    scope: number,
    key: string,
    gen: number,
    startedAt: number,
    load: CacheLoader,
    isToolCall: boolean,
    cancellation: Cancellation,
    lookup: Lookup,
  ): Promise<CacheOutcome & { cached: boolean }> {
    // The load is the flight's, cancelled only once every caller has gone.
    const loading = new Cancellation();
    const found: RemoteOutcome = { hit: false, fromRedis: false, storedAt: startedAt, gen: undefined };
    const promise =
      lookup.remote === undefined
        ? invokeLoad(load, loading)
        : this.#remoteOrLoad(state, key, lookup, load, loading, found);
    const flight: Flight = {
      gen,
      promise,
      cancellation: loading,
      credential: lookup.credential,
      waiters: 0,
      stale: false,
    };
    this.#flights.set(key, flight);
    const mine = this.#wait(flight, cancellation);
    let outcome: CacheOutcome;
    try {
      outcome = await flight.promise;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
    if (found.hit) {
      this.#hits++;
      if (found.fromRedis && outcome.kind === 'result' && state.gens[scope] === gen) {
        const { json } = outcome;
        const maxAgeMs = readHints(json).ttlMs ?? Number.POSITIVE_INFINITY;
        this.#remember(key, {
          json,
          state,
          scope,
          gen,
          storedAt: found.storedAt,
          inL2: false,
          maxAgeMs,
          remoteGen: found.gen,
        });
      }
      return { ...(await mine), cached: true };
    }
    this.#misses++;
    if (
      outcome.kind === 'result' &&
      !flight.stale &&
      state.gens[scope] === gen &&
      !(isToolCall && IS_ERROR_PATTERN.test(outcome.json))
    ) {
      this.#store(state, scope, key, gen, startedAt, outcome.json, lookup, found.gen);
    }
    return { ...(await mine), cached: false };
  }

  /**
   * Stores a loaded answer within what the policy and the answer's own hints allow: at most its `ttlMs`; a private
   * one only under its caller's credential, in L1.
   */
  #store(
    state: ChildState,
    scope: number,
    key: string,
    gen: number,
    storedAt: number,
    json: string,
    lookup: Lookup,
    remoteGen: string | undefined,
  ): void {
    const hints = readHints(json);
    const maxAgeMs = hints.ttlMs ?? Number.POSITIVE_INFINITY;
    if (maxAgeMs <= 0) return;
    const entry = { json, state, scope, gen, storedAt, inL2: false, maxAgeMs, remoteGen: undefined };
    if (hints.private && !lookup.private) {
      // Learnt now: from here on this request is keyed by credential, and the public key holds nothing.
      this.#l1.delete(key);
      this.#privateKeys.delete(lookup.baseKey);
      this.#privateKeys.add(lookup.baseKey);
      if (this.#privateKeys.size > MAX_PRIVATE_KEYS) this.#privateKeys.delete(this.#privateKeys.values().next().value!);
      this.#remember(`${lookup.baseKey}\u0001${lookup.credential}`, entry);
    } else if (hints.private || lookup.private) {
      this.#remember(key, entry);
    } else if (lookup.remote !== undefined) {
      if (remoteGen !== undefined) {
        const ttlMs = Math.min(lookup.ttlMs, maxAgeMs);
        lookup.remote.write(state.ns!, remoteGen, key, json, ttlMs - (this.#now() - storedAt), storedAt);
      }
      this.#remember(key, { ...entry, remoteGen });
    } else {
      if (scope === SCOPE_DATA && gen !== state.persistedGen && this.#l2 !== undefined) this.#persist(state);
      // L2 rows have no time to live of their own: an answer that asks for a shorter one stays in memory.
      const inL2 =
        scope === SCOPE_DATA &&
        maxAgeMs >= lookup.ttlMs &&
        this.#l2?.put({ key, child: state.name, gen, storedAt, json, bytes: Buffer.byteLength(json) }) === true;
      if (inL2) state.persistedHasRows = true;
      this.#remember(key, { ...entry, inL2 });
    }
  }

  /** Puts an entry in L1, counting its bytes. */
  #remember(key: string, entry: Omit<Entry, 'bytes'>): void {
    this.#l1.set(key, { ...entry, bytes: Buffer.byteLength(entry.json) + key.length + ENTRY_OVERHEAD_BYTES });
  }
}

/** Checks the options of a Redis L2 and fills in the defaults. */
function readRedisConfig(config: RedisL2Config): Required<Omit<RedisL2Config, 'kind' | 'instance'>> & {
  instance?: string;
} {
  if (typeof config.url !== 'string' || !/^(rediss?|redis\+unix):\/\//.test(config.url)) {
    throw new OmnimindError(
      'CACHE_OPTIONS_INVALID',
      `Expected \`l2.url\` to be a redis://, rediss:// or redis+unix:// URL, got \`${String(config.url)}\``,
    );
  }
  const keyPrefix = config.keyPrefix ?? 'omnimind:';
  if (typeof keyPrefix !== 'string') {
    throw new OmnimindError(
      'CACHE_OPTIONS_INVALID',
      `Expected \`l2.keyPrefix\` to be a string, got \`${String(keyPrefix)}\``,
    );
  }
  const timeoutMs = readInteger('l2.timeoutMs', config.timeoutMs, DEFAULT_REDIS_TIMEOUT_MS, 1);
  return { url: config.url, keyPrefix, timeoutMs, instance: config.instance };
}

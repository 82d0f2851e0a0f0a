import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis as RedisClient } from 'ioredis';
import type { L2Stats, L2Tier } from './types.js';

/** A generation key lives this long after its last bump (7 days); one that expired is recreated from Redis's clock. */
const GEN_TTL_MS = 7 * 24 * 3600 * 1000;

/** Stores sent but not yet acknowledged beyond this many are dropped: Redis is behind, and waiting would only grow. */
const MAX_PENDING_WRITES = 256;

/**
 * After a command fails or times out, Redis is left alone this long (a Redis that hangs would otherwise cost every
 * request the whole timeout); the first command after it tells whether it is back.
 */
const PAUSE_AFTER_ERROR_MS = 1_000;

/** Reconnection delay: grows 100 ms per attempt up to 2 s, so a Redis that comes back is used again within 2 s. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Lua: sets `g` and the generation at `key` to Redis's clock in µs, so a counter that expired never comes back at an old value. */
function fromClock(key: string, ttl: string): string {
  return `local t = redis.call('TIME')
  g = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', ${key}, g, 'PX', ${ttl})`;
}

/** Lua: moves the generation at `key` on, or starts it from the clock. */
function bump(key: string, ttl: string): string {
  return `if redis.call('EXISTS', ${key}) == 1 then
  redis.call('INCR', ${key})
  redis.call('PEXPIRE', ${key}, ${ttl})
else
  local g
  ${fromClock(key, ttl)}
end`;
}

/**
 * Reads a namespace's generation (creating it when missing) and the entry stored under it. KEYS[1]: generation key;
 * ARGV: value key prefix, key digest, generation TTL.
 */
const LOOKUP_SCRIPT = `
local g = redis.call('GET', KEYS[1])
if not g then
  ${fromClock('KEYS[1]', 'ARGV[3]')}
end
return {g, redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])}
`;

/** Moves a namespace's generation on; KEYS[1]: generation key; ARGV[1]: its TTL. */
const BUMP_SCRIPT = `${bump('KEYS[1]', 'ARGV[1]')}
return 1`;

/**
 * Records a namespace's tool-list fingerprint and bumps its generation when it differs from the one recorded (by
 * any host, in any run). KEYS: fingerprint key, generation key; ARGV: fingerprint, TTL.
 */
const FINGERPRINT_SCRIPT = `
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if old and old ~= ARGV[1] then
  ${bump('KEYS[2]', 'ARGV[2]')}
end
return 1`;

/** The scripts, as ioredis commands. */
interface ScriptCommands {
  omLookup(genKey: string, valuePrefix: string, digest: string, genTtl: number): Promise<[string, string | null]>;
  omBump(genKey: string, genTtl: number): Promise<number>;
  omFingerprint(fpKey: string, genKey: string, fingerprint: string, genTtl: number): Promise<number>;
}

/** Options of a `RedisL2`. */
export interface RedisL2Options {
  /** `redis://[user:password@]host:port/db`, `rediss://…` (TLS) or `redis+unix:///path/to/socket`. */
  url: string;
  /** Prefix of every key (default `omnimind:`), so one Redis can serve other programs too. */
  keyPrefix: string;
  /** Longest a request waits for Redis; beyond it the cache answers from memory or the child. */
  timeoutMs: number;
  warn: (message: string) => void;
}

/** What a lookup found: the namespace's current generation, and the entry stored under it (null: none). */
export interface RemoteRead {
  gen: string;
  json: string | null;
  /** When the entry was loaded from the child (ms since the epoch). */
  storedAt: number;
}

/** A short digest of a cache key, for Redis key names. */
function digestOf(key: string): string {
  return hash('sha1', key, 'base64url');
}

/** ioredis's options from a URL: `redis+unix://` names a socket path. */
function connectionOf(url: string): { url?: string; path?: string } {
  if (url.startsWith('redis+unix://')) return { path: new URL(url).pathname };
  return { url };
}

/**
 * L2 on Redis or Valkey, shared by several supervisors. Entries live in namespaces (one per child and host, or one
 * per shared child's identity); each namespace has a generation counter that every key embeds, so a write anywhere
 * invalidates a namespace with one INCR and no scan. Every value is stored with PX. Redis being down, slow or
 * read-only never fails a request: each command is bounded by `timeoutMs`, nothing is queued while disconnected,
 * failures are counted and the caller goes on from memory; the client reconnects on its own.
 */
export class RedisL2 implements L2Tier {
  readonly kind = 'redis';
  readonly #client: RedisClient & ScriptCommands;
  readonly #prefix: string;
  readonly #warn: (message: string) => void;
  /** Namespaces whose last bump has not reached Redis: their entries there may be stale, so they are not read. */
  readonly #unbumped = new Set<string>();
  /** The tool list each namespace was last filled under, sent again on each (re)connection. */
  readonly #fingerprints = new Map<string, string>();
  #pendingWrites = 0;
  #errors = 0;
  #degraded = 0;
  #hits = 0;
  #misses = 0;
  #warned = false;
  #closed = false;
  /** Until when (performance.now()) Redis is not asked, after a failure. */
  #pausedUntil = 0;

  constructor(options: RedisL2Options) {
    this.#prefix = options.keyPrefix;
    this.#warn = options.warn;
    const { url, path } = connectionOf(options.url);
    const settings = {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1_000, options.timeoutMs * 10),
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      ...(path === undefined ? {} : { path }),
    };
    // ioredis (about 20 MB resident) is loaded by the first Redis L2, never by a supervisor that does not use one.
    const { Redis } = createRequire(import.meta.url)('ioredis') as { Redis: typeof RedisClient };
    const client = url === undefined ? new Redis(settings) : new Redis(url, settings);
    client.defineCommand('omLookup', { numberOfKeys: 1, lua: LOOKUP_SCRIPT });
    client.defineCommand('omBump', { numberOfKeys: 1, lua: BUMP_SCRIPT });
    client.defineCommand('omFingerprint', { numberOfKeys: 2, lua: FINGERPRINT_SCRIPT });
    client.on('error', (error: Error) => {
      if (this.#warned || this.#closed) return;
      this.#warned = true;
      this.#warn(`The Redis cache at ${options.url} failed (${error.message}); caching in memory until it is back.`);
    });
    client.on('ready', () => {
      // A new connection answered: Redis is back.
      this.#warned = false;
      this.#pausedUntil = 0;
      for (const ns of this.#unbumped) void this.bump(ns);
      for (const [ns, fingerprint] of this.#fingerprints) this.#sendFingerprint(ns, fingerprint);
    });
    this.#client = client as RedisClient & ScriptCommands;
  }

  /** Whether Redis is connected and `ns` may be read there (no bump of it is waiting to reach Redis). */
  usable(ns: string): boolean {
    if (!this.#available()) return false;
    if (!this.#unbumped.has(ns)) return true;
    void this.bump(ns);
    return false;
  }

  /** The generation of `ns` and the entry of `key` under it; undefined when Redis could not answer in time. */
  async read(ns: string, key: string): Promise<RemoteRead | undefined> {
    if (!this.usable(ns)) {
      this.#degraded++;
      return undefined;
    }
    try {
      const [gen, value] = await this.#client.omLookup(
        this.#genKey(ns),
        `${this.#prefix}v:${ns}:`,
        digestOf(key),
        GEN_TTL_MS,
      );
      // A value is the time it was loaded, a newline, and the answer's JSON text.
      const split = value === null ? -1 : value.indexOf('\n');
      if (split < 0) {
        this.#misses++;
        return { gen, json: null, storedAt: 0 };
      }
      this.#hits++;
      return { gen, json: value!.slice(split + 1), storedAt: Number(value!.slice(0, split)) };
    } catch {
      this.#failed();
      this.#degraded++;
      return undefined;
    }
  }

  /** Stores an entry under generation `gen` of `ns` for `ttlMs`, without waiting; dropped when Redis is behind. */
  write(ns: string, gen: string, key: string, json: string, ttlMs: number, storedAt: number): void {
    if (ttlMs < 1) return;
    if (!this.usable(ns) || this.#pendingWrites >= MAX_PENDING_WRITES) {
      this.#degraded++;
      return;
    }
    this.#pendingWrites++;
    this.#client
      .set(`${this.#prefix}v:${ns}:${gen}:${digestOf(key)}`, `${storedAt}\n${json}`, 'PX', Math.ceil(ttlMs))
      .catch(() => this.#failed())
      .finally(() => {
        this.#pendingWrites--;
      });
  }

  /**
   * Invalidates every entry of `ns` on every host. Never rejects; until a bump reaches Redis the namespace is not
   * read there (it is retried on reconnection), so no host-local write can be followed by a stale read.
   */
  async bump(ns: string): Promise<void> {
    this.#unbumped.add(ns);
    if (!this.#available()) return;
    try {
      await this.#client.omBump(this.#genKey(ns), GEN_TTL_MS);
      this.#unbumped.delete(ns);
    } catch {
      this.#failed();
    }
  }

  /** Records the tool list `ns` was cached under; a different one (another version of the server) bumps it. */
  noteFingerprint(ns: string, fingerprint: string): void {
    this.#fingerprints.set(ns, fingerprint);
    if (this.#available()) this.#sendFingerprint(ns, fingerprint);
  }

  /** Records a fingerprint in Redis, bumping the namespace when another one was recorded. */
  #sendFingerprint(ns: string, fingerprint: string): void {
    this.#client
      .omFingerprint(`${this.#prefix}f:${ns}`, this.#genKey(ns), fingerprint, GEN_TTL_MS)
      .catch(() => this.#failed());
  }

  /** Connection state and counters, as `omnimind status` shows them. */
  stats(): L2Stats {
    return {
      kind: this.kind,
      entries: 0,
      bytes: 0,
      connected: this.#client.status === 'ready',
      hits: this.#hits,
      misses: this.#misses,
      errors: this.#errors,
      degraded: this.#degraded,
    };
  }

  /** Closes the connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.disconnect();
  }

  /** Whether Redis is connected and not paused after a failure. */
  #available(): boolean {
    return this.#client.status === 'ready' && performance.now() >= this.#pausedUntil;
  }

  /** Counts a failed command and leaves Redis alone for a while. */
  #failed(): void {
    this.#errors++;
    this.#pausedUntil = performance.now() + PAUSE_AFTER_ERROR_MS;
  }

  #genKey(ns: string): string {
    return `${this.#prefix}g:${ns}`;
  }
}

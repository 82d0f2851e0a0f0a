/** What a child answered to one request: the JSON text of its `result` member, or its JSON-RPC error. */
export type CacheOutcome =
  | { kind: 'result'; json: string }
  | { kind: 'error'; error: { code: number; message: string; data?: unknown } };

/** The part of a `tools/list` entry the cache reads: its name and behaviour hints. */
export interface ToolInfo {
  name: string;
  annotations?: {
    readOnlyHint?: boolean;
    openWorldHint?: boolean;
    idempotentHint?: boolean;
    destructiveHint?: boolean;
  };
}

/** How one child's answers may be cached. */
export interface ChildCachePolicy {
  /** A built-in child: its tool annotations are believed. */
  trusted: boolean;
  /** Time to live of this child's entries (default: `CacheOptions.ttlSeconds`); 0 caches nothing. */
  ttlSeconds?: number;
  /** Per-tool override: `true` or `{ttlSeconds}` caches the tool's results, `false` never does. */
  tools?: Record<string, boolean | { ttlSeconds: number }>;
  /** Tools that are never cached and whose calls count as writes (they keep state between calls). */
  statefulTools?: string[];
  /**
   * Digest of what makes two hosts' copies of this child the same server (command, args, configured env): set for an
   * external child marked `"cache": {"shared": true}`, whose answers a Redis L2 then shares between hosts.
   */
  shareAs?: string;
}

/** Redis (or Valkey) as L2, shared by several supervisors. */
export interface RedisL2Config {
  kind: 'redis';
  /** `redis://[user:password@]host:port/db`, `rediss://…` or `redis+unix:///path`. */
  url: string;
  /** Prefix of every key (default `omnimind:`). */
  keyPrefix?: string;
  /** Longest a request waits for Redis, in ms (default 50). */
  timeoutMs?: number;
  /** This host's name in the keys of answers that are never shared (default: host name and a digest of `file`). */
  instance?: string;
}

/** Which L2 the cache uses: the SQLite file (default) or Redis. */
export type L2Config = { kind: 'sqlite' } | RedisL2Config;

/** One tier's size and counters: lookups answered (hits) or not (misses) there, and entries evicted for room. */
export interface TierStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** What an L2 reports of itself; the connection fields and its own lookup counts are Redis's. */
export interface L2Stats {
  kind: 'sqlite' | 'redis';
  entries: number;
  bytes: number;
  connected?: boolean;
  hits?: number;
  misses?: number;
  /** Commands that failed or timed out. */
  errors?: number;
  /** Lookups and stores that went without L2 because it was down, slow or behind. */
  degraded?: number;
}

/** The surface both L2 implementations share: what they are, their counters, and closing. */
export interface L2Tier {
  readonly kind: L2Stats['kind'];
  stats(): L2Stats;
  close(): void;
}

/** Where the cache keeps its entries and how much room it has. */
export interface CacheOptions {
  /** The L2 SQLite file (`$OMNIMIND_HOME/cache.db`). */
  file: string;
  /** The L2 to use (default: the SQLite file). */
  l2?: L2Config;
  /** Memory budget of L1 in bytes (default 64 MiB). */
  l1MaxBytes?: number;
  /** Disk budget of L2 in bytes, counting the database and its -wal file (default 10 MiB). */
  l2MaxBytes?: number;
  /** Default time to live of an entry in seconds (default 300). */
  ttlSeconds?: number;
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Receives one line for each problem with the L2 file; the cache itself keeps working. */
  logger?: { warn(message: string): void };
  /** Aborting it closes the cache, as `close()` does. */
  signal?: AbortSignal;
}

/** Counters reported by `omnimind status`. */
export interface CacheStats {
  l1: TierStats;
  l2: L2Stats & TierStats;
  hits: number;
  misses: number;
  hitRate: number;
  /** Hits that were answered by joining an identical request already waiting on the child. */
  coalesced: number;
}

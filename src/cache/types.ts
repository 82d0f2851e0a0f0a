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
}

/** Where the cache keeps its entries and how much room it has. */
export interface CacheOptions {
  /** The L2 SQLite file (`$OMNIMIND_HOME/cache.db`). */
  file: string;
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

/** One tier's size and counters: lookups answered (hits) or not (misses) there, and entries evicted for room. */
export interface TierStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** Counters reported by `omnimind status`. */
export interface CacheStats {
  l1: TierStats;
  l2: TierStats;
  hits: number;
  misses: number;
  hitRate: number;
  /** Hits that were answered by joining an identical request already waiting on the child. */
  coalesced: number;
}

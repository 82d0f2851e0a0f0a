import { quantileOfBuckets } from '../metrics/index.js';

/** What one child's counters read at a sample: cumulative counts and latency buckets, and its process's usage. */
export interface ChildReading {
  name: string;
  requests: number;
  errors: number;
  cacheHits: number;
  /** Cumulative counts per latency bucket (`RequestStats.buckets()`). */
  buckets: Float64Array;
  rssBytes: number | null;
  cpuSeconds: number | null;
}

/** What the fleet's counters read at a sample. */
export interface FleetReading {
  /** Milliseconds since the epoch. */
  at: number;
  children: ChildReading[];
  cache: { hits: number; misses: number };
  limiter: { queued: number; shed: number };
}

/** One child over one interval: rates per second, percentiles in ms (null without requests), usage at its end. */
export interface ChildPoint {
  rate: number;
  errorRate: number;
  p50: number | null;
  p99: number | null;
  rssBytes: number | null;
  /** CPU seconds per second over the interval (1 = one core busy). */
  cpu: number | null;
}

/** The fleet over one interval. */
export interface HistoryPoint {
  at: number;
  children: Record<string, ChildPoint>;
  /** Cache hits over lookups in the interval; null without lookups. */
  cacheHitRate: number | null;
  queued: number;
  /** Requests shed in the interval. */
  shed: number;
}

/** The growth of a cumulative counter (a counter that went back, as a child replaced by a reload, starts anew). */
function growth(now: number, before: number | undefined): number {
  return before === undefined || now < before ? now : now - before;
}

/** Rounds to two decimals. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A ring of the last `capacity` intervals between readings of the fleet's cumulative counters. */
export class FleetHistory {
  readonly #capacity: number;
  readonly #points: HistoryPoint[] = [];
  #previous: FleetReading | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Takes a reading: the interval since the previous one becomes a point (the first reading only sets the base). */
  record(reading: FleetReading): void {
    const previous = this.#previous;
    this.#previous = reading;
    if (previous === undefined) return;
    const seconds = Math.max((reading.at - previous.at) / 1000, 0.001);
    const before = new Map(previous.children.map((child) => [child.name, child]));
    const children: Record<string, ChildPoint> = {};
    for (const child of reading.children) {
      const last = before.get(child.name);
      const fresh = last === undefined || child.requests < last.requests;
      const buckets = fresh ? child.buckets : child.buckets.map((count, i) => count - (last.buckets[i] ?? 0));
      const requests = growth(child.requests, last?.requests);
      const quantile = (q: number) => (requests === 0 ? null : round(quantileOfBuckets(buckets, q) * 1000));
      children[child.name] = {
        rate: round(requests / seconds),
        errorRate: round(growth(child.errors, last?.errors) / seconds),
        p50: quantile(0.5),
        p99: quantile(0.99),
        rssBytes: child.rssBytes,
        cpu:
          child.cpuSeconds === null || last?.cpuSeconds == null || child.cpuSeconds < last.cpuSeconds
            ? null
            : round((child.cpuSeconds - last.cpuSeconds) / seconds),
      };
    }
    const hits = growth(reading.cache.hits, previous.cache.hits);
    const lookups = hits + growth(reading.cache.misses, previous.cache.misses);
    this.#points.push({
      at: reading.at,
      children,
      cacheHitRate: lookups === 0 ? null : round(hits / lookups),
      queued: reading.limiter.queued,
      shed: growth(reading.limiter.shed, previous.limiter.shed),
    });
    if (this.#points.length > this.#capacity) this.#points.shift();
  }

  /** The points, oldest first. */
  points(): HistoryPoint[] {
    return [...this.#points];
  }
}

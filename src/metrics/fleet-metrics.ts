import { Counter, Gauge, type Registry } from 'prom-client';
import { childLabel } from './labels.js';
import type { TracingStats } from './tracing.js';

/** The child states a `state` label takes (CONTRACT.md, "Child states"). */
const CHILD_STATES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'EXITED', 'BACKOFF', 'FATAL'];
const PRIORITIES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW'];

/** One child as a scrape sees it (what `status` reports of it). */
export interface ChildSample {
  name: string;
  state: string;
  restarts: number;
  lastExit: { reason: string; code: number | null; signal: string | null; at: string } | null;
  /** Resident memory and CPU time of its process group, when it has a process (null or absent otherwise). */
  rssBytes?: number | null;
  cpuSeconds?: number | null;
}

/** One cache tier: its size, and its lookups and evictions since start. */
export interface TierSample {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** The state of the fleet at the moment of a scrape, read once and shared by every gauge. */
export interface FleetSample {
  children: ChildSample[];
  /** Connected clients: one entry per session. */
  clients: Array<{ endpoint: string; transport: string }>;
  cache?: { l1: TierSample; l2: TierSample; coalesced: number };
  limiter?: {
    rps: number;
    throughputRps: number;
    concurrency: number;
    byPriority: Record<string, { queued: number; running: number; shed: number; timedOut: number }>;
  };
  tracing?: TracingStats;
}

/** Reads a metric's values at scrape time: calls `set` once per label set. */
type Read<L extends string> = (set: (labels: Partial<Record<L, string>>, value: number) => void) => void;

/** A metric read at scrape time: a gauge, or a counter whose running total is kept elsewhere. */
function scraped<L extends string>(
  registry: Registry,
  kind: 'counter' | 'gauge',
  name: string,
  help: string,
  labelNames: L[],
  read: Read<L>,
): void {
  const configuration = { name, help, labelNames, registers: [registry] };
  if (kind === 'gauge') {
    new Gauge<L>({
      ...configuration,
      collect: function (this: Gauge<L>) {
        this.reset();
        read((labels, value) => this.set(labels, value));
      },
    });
  } else {
    new Counter<L>({
      ...configuration,
      collect: function (this: Counter<L>) {
        this.reset();
        read((labels, value) => this.inc(labels, value));
      },
    });
  }
}

/** Registers the gauges and running totals read from `sample()` at each scrape: children, clients, cache, limiter. */
export function registerFleetMetrics(registry: Registry, sample: () => FleetSample): void {
  const children = () => sample().children.map((c) => ({ ...c, child: childLabel(c.name) }));
  scraped(registry, 'gauge', 'omnimind_child_up', 'Whether the child is RUNNING (1) or not (0).', ['child'], (set) => {
    for (const c of children()) set({ child: c.child }, c.state === 'RUNNING' ? 1 : 0);
  });
  scraped(
    registry,
    'gauge',
    'omnimind_child_state',
    'The child state: 1 for its current state.',
    ['child', 'state'],
    (set) => {
      for (const c of children())
        for (const state of CHILD_STATES) set({ child: c.child, state }, c.state === state ? 1 : 0);
    },
  );
  scraped(registry, 'counter', 'omnimind_child_restarts_total', 'Restarts of the child.', ['child'], (set) => {
    for (const c of children()) set({ child: c.child }, c.restarts);
  });
  scraped(
    registry,
    'gauge',
    'omnimind_child_last_exit_timestamp_seconds',
    'When the child last exited, with why (reason), its exit code and signal.',
    ['child', 'reason', 'code', 'signal'],
    (set) => {
      for (const c of children()) {
        if (c.lastExit === null) continue;
        const { reason, code, signal, at } = c.lastExit;
        set(
          { child: c.child, reason, code: code === null ? '' : String(code), signal: signal ?? '' },
          Date.parse(at) / 1000,
        );
      }
    },
  );
  scraped(
    registry,
    'gauge',
    'omnimind_child_resident_memory_bytes',
    "Resident memory of the child's process group (pages shared between processes count in each).",
    ['child'],
    (set) => {
      for (const c of children()) if (typeof c.rssBytes === 'number') set({ child: c.child }, c.rssBytes);
    },
  );
  scraped(
    registry,
    'counter',
    'omnimind_child_cpu_seconds_total',
    "CPU time (user + system) of the child's process group.",
    ['child'],
    (set) => {
      for (const c of children()) if (typeof c.cpuSeconds === 'number') set({ child: c.child }, c.cpuSeconds);
    },
  );
  scraped(
    registry,
    'gauge',
    'omnimind_clients',
    'Connected clients by endpoint and transport.',
    ['endpoint', 'transport'],
    (set) => {
      const counts = new Map<string, { endpoint: string; transport: string; n: number }>();
      for (const { endpoint, transport } of sample().clients) {
        const key = `${endpoint}\n${transport}`;
        const entry = counts.get(key) ?? { endpoint, transport, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      for (const { endpoint, transport, n } of counts.values()) set({ endpoint, transport }, n);
    },
  );
  registerCacheMetrics(registry, sample);
  registerLimiterMetrics(registry, sample);
  scraped(
    registry,
    'counter',
    'omnimind_trace_spans_total',
    'Request spans by fate: exported, failed (the collector refused or was down) or dropped (export queue full).',
    ['outcome'],
    (set) => {
      const tracing = sample().tracing;
      if (tracing === undefined) return;
      set({ outcome: 'exported' }, tracing.exported);
      set({ outcome: 'failed' }, tracing.failed);
      set({ outcome: 'dropped' }, tracing.dropped);
    },
  );
}

function registerCacheMetrics(registry: Registry, sample: () => FleetSample): void {
  for (const [kind, name, help, field] of [
    ['counter', 'omnimind_cache_hits_total', 'Requests answered from a tier (l1: memory, l2: SQLite).', 'hits'],
    ['counter', 'omnimind_cache_misses_total', 'Lookups in a tier that found no usable answer.', 'misses'],
    ['counter', 'omnimind_cache_evictions_total', 'Entries evicted from a tier to make room.', 'evictions'],
    ['gauge', 'omnimind_cache_entries', 'Cached answers by tier (l1: memory, l2: SQLite).', 'entries'],
    ['gauge', 'omnimind_cache_bytes', 'Bytes of cached answers by tier (l1: memory, l2: SQLite).', 'bytes'],
  ] as const) {
    scraped(registry, kind, name, help, ['tier'], (set) => {
      const cache = sample().cache;
      if (cache === undefined) return;
      set({ tier: 'l1' }, cache.l1[field]);
      set({ tier: 'l2' }, cache.l2[field]);
    });
  }
  scraped(
    registry,
    'counter',
    'omnimind_cache_coalesced_total',
    'Requests answered by joining an identical request already waiting on the child (no tier looked at).',
    [],
    (set) => {
      const cache = sample().cache;
      if (cache !== undefined) set({}, cache.coalesced);
    },
  );
}

function registerLimiterMetrics(registry: Registry, sample: () => FleetSample): void {
  for (const [name, help, field] of [
    ['omnimind_limiter_rate_limit_rps', 'The admission rate now in force, requests per second.', 'rps'],
    ['omnimind_limiter_throughput_rps', 'Requests started per second over the last sample interval.', 'throughputRps'],
    ['omnimind_limiter_concurrency_limit', 'The in-flight limit now in force.', 'concurrency'],
  ] as const) {
    scraped(registry, 'gauge', name, help, [], (set) => {
      const limiter = sample().limiter;
      if (limiter !== undefined) set({}, limiter[field]);
    });
  }
  for (const [kind, name, help, field] of [
    ['gauge', 'omnimind_limiter_running', 'Requests admitted and not yet answered, by priority.', 'running'],
    ['gauge', 'omnimind_limiter_queued', 'Requests waiting for admission, by priority.', 'queued'],
    ['counter', 'omnimind_limiter_shed_total', 'Requests shed under overload, by priority.', 'shed'],
    [
      'counter',
      'omnimind_limiter_timed_out_total',
      'Requests the limiter answered with a timeout, by priority.',
      'timedOut',
    ],
  ] as const) {
    scraped(registry, kind, name, help, ['priority'], (set) => {
      const limiter = sample().limiter;
      if (limiter === undefined) return;
      for (const priority of PRIORITIES) set({ priority }, limiter.byPriority[priority]?.[field] ?? 0);
    });
  }
}

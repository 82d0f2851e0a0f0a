import type { ChildStatus } from './managed-child.js';

/** A child in `status --json`: its process facts plus the gateway's counters. */
export interface ChildReport extends ChildStatus {
  socket: string;
  clients: number;
  requests: number;
  errors: number;
  inFlight: number;
  /** Requests answered from the shared cache, and waiting in the limiter for this child. */
  cacheHits: number;
  queued: number;
  latencyMs: { p50: number; p99: number };
}

/** A profile in `status --json`: several children behind one endpoint. */
export interface ProfileReport {
  name: string;
  socket: string;
  children: string[];
  clients: number;
  /** Resource URIs two of its children list (the first in config order serves them). */
  uriConflicts: string[];
}

/** The whole `status --json` document (CONTRACT.md, "Child states"). */
export interface StatusReport {
  supervisor: {
    pid: number;
    version: string;
    startedAt: string;
    home: string;
    runtimeDir: string;
    configFile: string;
    systemd: boolean;
  };
  children: ChildReport[];
  profiles: ProfileReport[];
  cache: {
    l1: { entries: number; bytes: number };
    l2: { entries: number; bytes: number };
    hits: number;
    misses: number;
    hitRate: number;
  };
  limiter: { rps: number; queued: number; running: number; shed: number; timedOut: number };
}

/** The methods of the control socket and their parameters. */
export interface ControlMethods {
  status: { params: { children?: string[] }; result: StatusReport };
  start: { params: { children: string[]; timeoutMs?: number }; result: StatusReport };
  stop: { params: { children?: string[]; timeoutMs?: number }; result: { stopped: string[]; supervisor: boolean } };
  restart: { params: { children: string[]; timeoutMs?: number }; result: StatusReport };
  wait: { params: { children?: string[]; timeoutMs?: number }; result: StatusReport };
  'cache.clear': { params: { child?: string }; result: { removed: number } };
  /** The Prometheus text exposition of the supervisor's metrics. */
  metrics: { params: Record<string, never>; result: { text: string } };
}

/** A control method name. */
export type ControlMethod = keyof ControlMethods;

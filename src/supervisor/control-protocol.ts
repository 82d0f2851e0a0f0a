import type { L2Stats } from '../cache/index.js';
import type { HttpReport } from '../http/front.js';
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
  /** Resident memory and CPU seconds of the child's whole process group; null when it has no process. */
  rssBytes: number | null;
  cpuSeconds: number | null;
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
    /** When the config file was last read (start or reload). */
    configLoadedAt: string;
    systemd: boolean;
    /** The supervisor's own resident memory and CPU seconds. */
    rssBytes: number;
    cpuSeconds: number;
  };
  children: ChildReport[];
  profiles: ProfileReport[];
  cache: {
    l1: { entries: number; bytes: number };
    /** Its kind (`sqlite`, `redis`); for Redis also whether it is connected and how often the cache went without it. */
    l2: L2Stats;
    hits: number;
    misses: number;
    hitRate: number;
  };
  limiter: { rps: number; queued: number; running: number; shed: number; timedOut: number };
  /** The HTTP front, when it is on: its URL and sessions by revision and by credential. */
  http?: HttpReport;
}

/** What `omnimind reload` applied: children by name, and the top-level config sections that changed. */
export interface ReloadReport {
  configFile: string;
  configLoadedAt: string;
  added: string[];
  removed: string[];
  /** Restarted with their new command, args, env, cwd or options. */
  changed: string[];
  /** Kept their process, pid and connections. */
  kept: string[];
  /** Kept, with a new `start` or `idleStopSeconds`. */
  lifecycle: string[];
  profilesAdded: string[];
  profilesRemoved: string[];
  /** Their `tools` filter changed: a new endpoint behind the same socket (their clients reconnect). */
  profilesReplaced: string[];
  settings: string[];
  /** Changed settings that take effect at the next start of the supervisor. */
  applyAtRestart: string[];
  /**
   * Under systemd: the socket units (`omnimind@<endpoint>.socket`) of added endpoints to enable and of removed ones to
   * stop and disable, and which manager holds them. `omnimind reload` runs these systemctl commands.
   */
  socketUnits?: { scope: 'user' | 'system'; enable: string[]; disable: string[] };
}

/** The methods of the control socket and their parameters. */
export interface ControlMethods {
  status: { params: { children?: string[] }; result: StatusReport };
  start: { params: { children: string[]; timeoutMs?: number }; result: StatusReport };
  stop: { params: { children?: string[]; timeoutMs?: number }; result: { stopped: string[]; supervisor: boolean } };
  restart: { params: { children: string[]; timeoutMs?: number }; result: StatusReport };
  wait: { params: { children?: string[]; timeoutMs?: number }; result: StatusReport };
  reload: { params: Record<string, never>; result: ReloadReport };
  'cache.clear': { params: { child?: string }; result: { removed: number } };
  /** The Prometheus text exposition of the supervisor's metrics. */
  metrics: { params: Record<string, never>; result: { text: string } };
}

/** A control method name. */
export type ControlMethod = keyof ControlMethods;

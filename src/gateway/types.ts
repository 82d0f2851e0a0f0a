import type { CacheLoader, CacheOutcome, FetchOptions, ToolInfo } from '../cache/index.js';
import type { Priority } from '../limiter/index.js';
import type { Cancellation } from '../protocol/index.js';
import type { ChildState } from './child-state.js';

/** The part of a tool definition the gateway needs: its name and behaviour hints. */
export type ToolSummary = ToolInfo;

/** The supervisor's live connection to one child, as the gateway sees it. */
export interface ChildLink {
  readonly name: string;
  /** Only RUNNING accepts traffic; IDLE starts on `demand()`. */
  readonly state: ChildState;
  /** The child's answer to `initialize`, captured when it became RUNNING. */
  readonly initializeResult: Record<string, unknown> | undefined;
  /** The child's tools, read when it became RUNNING. */
  readonly tools: ToolSummary[];
  /** A request arrived for an IDLE child: start it (a no-op in any other state). */
  demand(): void;
  /** Writes a message (an object, or a frame of JSON text ending in a newline) to the child; false if none is live. */
  send(message: unknown): boolean;
  /** Every message of the child but a result for a gateway request (numeric id), parsed. */
  on(event: 'message', listener: (message: Record<string, unknown>) => void): this;
  /** The child's result for the gateway request `id`, as the JSON text it wrote. */
  on(event: 'result', listener: (id: number, json: string) => void): this;
  /** `reason` says why a start on demand failed (the child is IDLE again). */
  on(event: 'state', listener: (state: ChildState, previous: ChildState, reason?: string) => void): this;
  /** The child's tools were listed again after it announced a change. */
  on(event: 'tools', listener: (tools: ToolSummary[]) => void): this;
}

/** A client as a child's router sees it: what it may be sent, and what it asked for. */
export interface RouterClient {
  /** Requests of this client at this child that have not been answered yet. */
  readonly requestsInFlight: number;
  /** Resource URIs this client subscribed to at this child. */
  readonly subscriptions: ReadonlySet<string>;
  /** Index into the MCP log levels below which this client does not want log notifications (0 = all). */
  readonly minLogLevelIndex: number;
  /** Whether the client declared a capability (sampling, elicitation, roots) in `initialize`. */
  hasCapability(name: string): boolean;
  /** Sends a message from the child (a notification, or a request the client is to answer). */
  sendMessage(message: Record<string, unknown>): void;
  /** Tells the client a request the child asked it is void (the child restarted). */
  cancelUpstream(id: string): void;
}

/** What the gateway needs of the shared cache. */
export interface RequestCache {
  fetch(
    child: string,
    method: string,
    params: Record<string, unknown> | undefined,
    load: CacheLoader,
    options?: FetchOptions,
  ): Promise<CacheOutcome & { cached: boolean }>;
  /** A valid answer the cache holds in memory and may serve at once (no load, no limiter); undefined otherwise. */
  peek(
    child: string,
    method: string,
    params: Record<string, unknown> | undefined,
    options?: FetchOptions,
  ): (CacheOutcome & { cached: boolean }) | undefined;
  noteTools(child: string, tools: ToolSummary[]): void;
  onNotification(child: string, method: string, params: Record<string, unknown> | undefined): void;
  onChildRestart(child: string): void;
}

/** What the gateway needs of the shared limiter. */
export interface RequestLimiter {
  /** Runs a task once admitted; it gets `cancellation`, cancelled on timeout or by the caller. */
  run<T>(
    task: (cancellation: Cancellation) => Promise<T>,
    options: { priority: Priority; child: string; timeoutMs?: number; cancellation?: Cancellation },
  ): Promise<T>;
  recordOutcome(child: string, latencyMs: number, ok: boolean): void;
  /** How long a request may take (ms): a request waiting for its client's input is let go after as long. */
  readonly timeoutMs?: number;
  /** Whether the child can answer now: time spent waiting for a child that is not running is never overload. */
  noteChildState(child: string, running: boolean): void;
}

import type { Priority } from '../limiter/index.js';
import type { ChildRouter, RouteOutcome } from './child-router.js';
import type { CompressionPolicy } from './result-compression.js';

/** One child as the sessions of an endpoint reach it: its router and the settings of the requests sent to it. */
export interface Member {
  readonly router: ChildRouter;
  /** The child confines each request to the roots of the client that sent it (`_meta["omnimind/roots"]`). */
  readonly honoursRoots: boolean;
  /** Token budgets for this child's text results. */
  readonly compression: CompressionPolicy | undefined;
  /** Default priorities of this child's tools. */
  readonly toolPriorities: Readonly<Record<string, Priority>>;
}

/** Runs one request on a member through the shared limiter and cache, as the session that asked. */
export type MemberCall = (
  member: Member,
  method: string,
  params: Record<string, unknown> | undefined,
  signal: AbortSignal,
) => Promise<RouteOutcome>;

/** Where one request goes: to one member, or answered by the endpoint (which may call members itself). */
export type Route =
  | { kind: 'member'; member: Member; params: Record<string, unknown> | undefined }
  | { kind: 'answer'; answer(call: MemberCall, signal: AbortSignal): Promise<RouteOutcome> };

/** The answer to `initialize` before the protocol version is agreed, or why the endpoint cannot serve. */
export type InitializeOutcome =
  | { kind: 'result'; result: Record<string, unknown> }
  | Extract<RouteOutcome, { kind: 'error' }>;

/** What a client connects to: one child, or a profile that puts several behind one MCP server. */
export interface Endpoint {
  readonly name: string;
  /** Every child this endpoint reaches, in config order. */
  readonly members: readonly Member[];
  /** The one member of a child's own endpoint; requests then need no routing. */
  readonly single: Member | undefined;
  /** The `initialize` result (before protocol negotiation), or an error outcome. */
  initialize(signal: AbortSignal): Promise<InitializeOutcome>;
  /** Where a request other than `initialize`, `ping` and `logging/setLevel` goes. */
  route(method: string, params: Record<string, unknown> | undefined): Route;
}

import type { CacheOutcome } from '../cache/index.js';
import { type Cancellation, ErrorCode, type JsonRpcErrorObject } from '../protocol/index.js';
import { type ChildState, isDown } from './child-state.js';
import { RequestStats } from './latency.js';
import { isReplayable } from './replay.js';
import type { ChildLink, RequestCache, RequestLimiter, RouterClient } from './types.js';

/** The outcome of one routed request: the JSON text of its result, or a JSON-RPC error (the cache's outcome). */
export type RouteOutcome = CacheOutcome;

/** A request the router forwards (or will forward) to the child. */
interface PendingRequest {
  childId: number;
  method: string;
  params: Record<string, unknown> | undefined;
  /** The JSON text of `params` as the client wrote it, when they are forwarded unchanged. */
  paramsText: string | undefined;
  /** Whether the request carries a progress token the router remapped (and must forget once answered). */
  progress: boolean;
  sent: boolean;
  startedAt: number;
  resolve: (outcome: RouteOutcome) => void;
}

/** A request from the child to a client (sampling, elicitation, roots), waiting for that client's answer. */
interface UpstreamRequest {
  childRequestId: string | number;
  session: RouterClient;
}

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** Which capability a client needs to answer a server→client request. */
const CAPABILITY_FOR_METHOD: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** Ids of server→client requests are unique across routers, so a client attached to several children tells them apart. */
let nextUpstreamId = 1;

/** Error codes that blame the request, not the child. */
const CLIENT_ERRORS = new Set<number>([ErrorCode.InvalidRequest, ErrorCode.MethodNotFound, ErrorCode.InvalidParams]);

/**
 * Multiplexes many clients onto one child: rewrites ids both ways, remaps progress tokens, routes
 * server→client requests and notifications, holds requests while the child restarts and replays the safe ones.
 */
export class ChildRouter {
  readonly link: ChildLink;
  readonly sessions = new Set<RouterClient>();
  /** What clients of this child were answered, and how fast (recorded by their sessions). */
  readonly stats = new RequestStats();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #progress = new Map<string, { session: RouterClient; token: string | number }>();
  readonly #upstream = new Map<string, UpstreamRequest>();
  #nextId = 1;
  #lastMethod = '';
  #lastMethodText = '""';
  #childLogLevel: string | undefined;
  #wasRunning = false;
  /** Why the last start on demand failed, while the child is IDLE after it. */
  #startFailure: string | undefined;
  readonly #cache: RequestCache | undefined;
  readonly #limiter: RequestLimiter | undefined;
  readonly #configuredRoots: readonly string[];
  readonly #dedicated: boolean;

  constructor(
    link: ChildLink,
    services: {
      cache?: RequestCache;
      limiter?: RequestLimiter;
      configuredRoots?: readonly string[];
      /** The child serves one client for its whole life (`per-client` isolation): all it asks is that client's. */
      dedicated?: boolean;
    } = {},
  ) {
    this.link = link;
    this.#cache = services.cache;
    this.#limiter = services.limiter;
    this.#configuredRoots = services.configuredRoots ?? [];
    this.#dedicated = services.dedicated === true;
    link.on('message', (message) => this.#onChildMessage(message));
    link.on('result', (id, json) => this.#onChildResult(id, json));
    link.on('state', (state, previous, reason) => this.#onChildState(state, previous, reason));
    link.on('tools', (tools) => this.#cache?.noteTools(link.name, tools));
    this.#limiter?.noteChildState(link.name, link.state === 'RUNNING');
  }

  /** Requests in flight or waiting for the child. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Forwards a client request to the child and resolves with its outcome; `cancellation` cancels it at the child.
   * `paramsText`, the JSON text of `params` as the client wrote it, is sent in their place when they need no change.
   */
  forward(
    session: RouterClient | undefined,
    method: string,
    params: Record<string, unknown> | undefined,
    cancellation?: Cancellation,
    paramsText?: string,
  ): Promise<RouteOutcome> {
    const state = this.link.state;
    if (isDown(state)) return Promise.resolve(this.unavailable(state));
    if (state === 'IDLE') this.link.demand();
    return new Promise<RouteOutcome>((resolve) => {
      const childId = this.#nextId++;
      const forwarded = session ? this.#remapProgress(session, childId, params) : params;
      const pending: PendingRequest = {
        childId,
        method,
        params: forwarded,
        paramsText: forwarded === params ? paramsText : undefined,
        progress: forwarded !== params,
        sent: false,
        startedAt: performance.now(),
        resolve,
      };
      this.#pending.set(childId, pending);
      if (cancellation !== undefined) {
        if (cancellation.aborted) return this.#abort(pending, cancellation.reason);
        cancellation.onAbort((reason) => this.#abort(pending, reason));
      }
      if (this.link.state === 'RUNNING') this.#send(pending);
    });
  }

  #remapProgress(session: RouterClient, childId: number, params: Record<string, unknown> | undefined) {
    const meta = params?._meta as Record<string, unknown> | undefined;
    const token = meta?.progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return params;
    const gatewayToken = `p${childId}`;
    this.#progress.set(gatewayToken, { session, token });
    return { ...params, _meta: { ...meta, progressToken: gatewayToken } };
  }

  #send(pending: PendingRequest): void {
    pending.sent = true;
    // The frame is written as text in one go: no message object to build and encode.
    const head = `{"jsonrpc":"2.0","id":${pending.childId},"method":${this.#methodText(pending.method)}`;
    const params = pending.paramsText ?? (pending.params === undefined ? undefined : JSON.stringify(pending.params));
    const frame = params === undefined ? `${head}}\n` : `${head},"params":${params}}\n`;
    if (!this.link.send(frame)) pending.sent = false;
  }

  /** A method name as JSON text; the last one is kept, since a router forwards runs of the same method. */
  #methodText(method: string): string {
    if (method !== this.#lastMethod) {
      this.#lastMethod = method;
      this.#lastMethodText = JSON.stringify(method);
    }
    return this.#lastMethodText;
  }

  /** Answers a pending request; returns its latency, or undefined if it was already answered. */
  #settle(pending: PendingRequest, outcome: RouteOutcome): number | undefined {
    if (!this.#pending.delete(pending.childId)) return undefined;
    if (pending.progress) this.#progress.delete(`p${pending.childId}`);
    const latencyMs = performance.now() - pending.startedAt;
    pending.resolve(outcome);
    return latencyMs;
  }

  #abort(pending: PendingRequest, reason: unknown): void {
    if (!this.#pending.has(pending.childId)) return;
    if (pending.sent) {
      this.link.send({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: pending.childId, reason: reason instanceof Error ? reason.message : 'cancelled' },
      });
    }
    this.#settle(pending, {
      kind: 'error',
      error: { code: ErrorCode.RequestTimeout, message: 'Request cancelled or timed out before the child answered' },
    });
  }

  /** The -32011 answer for a child that is down, or IDLE after a failed start on demand (with the reason). */
  unavailable(state: ChildState): RouteOutcome {
    const reason = state === 'IDLE' ? this.#startFailure : undefined;
    return {
      kind: 'error',
      error: {
        code: ErrorCode.ChildUnavailable,
        message:
          reason === undefined
            ? `Child "${this.link.name}" is ${state}; run \`omnimind start ${this.link.name}\``
            : `Child "${this.link.name}" failed to start: ${reason}`,
        data: { child: this.link.name, state },
      },
    };
  }

  #onChildState(state: ChildState, previous: ChildState, reason?: string): void {
    this.#limiter?.noteChildState(this.link.name, state === 'RUNNING');
    this.#startFailure = reason;
    if (state === 'RUNNING') {
      if (this.#wasRunning) this.#cache?.onChildRestart(this.link.name);
      this.#wasRunning = true;
      this.#cache?.noteTools(this.link.name, this.link.tools);
      for (const pending of this.#pending.values()) if (!pending.sent) this.#send(pending);
      return;
    }
    if (previous === 'RUNNING' || previous === 'STOPPING') {
      for (const [id, upstream] of this.#upstream) {
        upstream.session.cancelUpstream(id);
        this.#upstream.delete(id);
      }
    }
    // A child that died on its own will be back: replay what is safe, refuse the rest. One that was stopped or went
    // FATAL will not: everything gets -32011 below.
    if (previous === 'RUNNING' && !isDown(state) && state !== 'IDLE') {
      for (const pending of [...this.#pending.values()]) {
        if (!pending.sent) continue;
        if (isReplayable(pending.method, pending.params, this.link.tools)) {
          pending.sent = false;
          continue;
        }
        this.#settle(pending, {
          kind: 'error',
          error: {
            code: ErrorCode.ChildCrashed,
            message: `Child "${this.link.name}" stopped while running this request; it was not retried because it may not be safe to repeat`,
            data: { child: this.link.name },
          },
        });
      }
    }
    // A start on demand that failed leaves the child IDLE: what waited for it gets the reason.
    if (isDown(state) || state === 'IDLE') {
      for (const pending of [...this.#pending.values()]) this.#settle(pending, this.unavailable(state));
    }
  }

  #onChildMessage(message: Record<string, unknown>): void {
    const method = message.method;
    if (typeof method !== 'string') return this.#onChildResponse(message);
    if (message.id !== undefined) return this.#onChildRequest(message, method);
    this.#onChildNotification(message, method);
  }

  #onChildResponse(message: Record<string, unknown>): void {
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    const error = message.error as JsonRpcErrorObject | undefined;
    const latencyMs = this.#settle(
      pending,
      error === undefined ? { kind: 'result', json: JSON.stringify(message.result ?? {}) } : { kind: 'error', error },
    );
    // Only real answers teach the limiter about the child; a client's bad request is not the child's failure.
    if (latencyMs !== undefined)
      this.#limiter?.recordOutcome(this.link.name, latencyMs, !error || CLIENT_ERRORS.has(error.code));
  }

  /** A result as the child wrote it: forwarded, cached or compressed as text, never parsed here. */
  #onChildResult(id: number, json: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    const latencyMs = this.#settle(pending, { kind: 'result', json: json === 'null' ? '{}' : json });
    if (latencyMs !== undefined) this.#limiter?.recordOutcome(this.link.name, latencyMs, true);
  }

  #onChildRequest(message: Record<string, unknown>, method: string): void {
    const childRequestId = message.id as string | number;
    const session = this.#attributedSession(method);
    if (session) {
      const gatewayId = `g${nextUpstreamId++}`;
      this.#upstream.set(gatewayId, { childRequestId, session });
      session.sendMessage({ ...message, id: gatewayId });
      return;
    }
    if (method === 'roots/list') {
      const roots = this.#configuredRoots.map((uri) => ({ uri }));
      this.link.send({ jsonrpc: '2.0', id: childRequestId, result: { roots } });
      return;
    }
    this.link.send({
      jsonrpc: '2.0',
      id: childRequestId,
      error: {
        code: ErrorCode.MethodNotFound,
        message: `${method} cannot be attributed to exactly one client: it is answered only while one client, which declared the capability, has requests in flight`,
      },
    });
  }

  /**
   * The client a server→client request belongs to beyond doubt: the only attached client with requests in flight,
   * if it declared the capability the request needs. With several clients in flight nothing is guessed. A dedicated
   * child's one client is always the one.
   */
  #attributedSession(method: string): RouterClient | undefined {
    let only: RouterClient | undefined;
    for (const session of this.sessions) {
      if (session.requestsInFlight === 0 && !this.#dedicated) continue;
      if (only) return undefined;
      only = session;
    }
    const capability = CAPABILITY_FOR_METHOD[method];
    return only && (capability === undefined || only.hasCapability(capability)) ? only : undefined;
  }

  /** Routes a client's answer to a server→client request back to the child. */
  answerUpstream(session: RouterClient, message: Record<string, unknown>): void {
    const id = String(message.id);
    const upstream = this.#upstream.get(id);
    if (!upstream || upstream.session !== session) return;
    this.#upstream.delete(id);
    this.link.send({ ...message, id: upstream.childRequestId });
  }

  #onChildNotification(message: Record<string, unknown>, method: string): void {
    const params = message.params as Record<string, unknown> | undefined;
    switch (method) {
      case 'notifications/progress': {
        const target = this.#progress.get(String(params?.progressToken));
        target?.session.sendMessage({ ...message, params: { ...params, progressToken: target.token } });
        return;
      }
      case 'notifications/message': {
        const level = LEVELS.indexOf(String(params?.level));
        for (const session of this.sessions) if (level >= session.minLogLevelIndex) session.sendMessage(message);
        return;
      }
      case 'notifications/resources/updated': {
        this.#cache?.onNotification(this.link.name, method, params);
        const uri = String(params?.uri);
        for (const session of this.sessions) if (session.subscriptions.has(uri)) session.sendMessage(message);
        return;
      }
      case 'notifications/cancelled': {
        for (const [id, upstream] of this.#upstream) {
          if (upstream.childRequestId === params?.requestId) {
            this.#upstream.delete(id);
            upstream.session.sendMessage({ ...message, params: { ...params, requestId: id } });
          }
        }
        return;
      }
      default:
        if (method.endsWith('/list_changed')) this.#cache?.onNotification(this.link.name, method, params);
        for (const session of this.sessions) session.sendMessage(message);
    }
  }

  /** Forwards a client notification (progress on a child's request, roots/list_changed) to the child. */
  forwardNotification(method: string, params: Record<string, unknown> | undefined): void {
    if (method === 'notifications/initialized') return;
    this.link.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  /** Sets the child's log level to the most verbose level any client asked for. */
  updateLogLevel(): void {
    let lowest = LEVELS.length;
    for (const session of this.sessions) lowest = Math.min(lowest, session.minLogLevelIndex);
    const level = LEVELS[lowest];
    if (!level || level === this.#childLogLevel) return;
    this.#childLogLevel = level;
    void this.forward(undefined, 'logging/setLevel', { level });
  }

  /** Whether another client than `except` subscribes to a resource. */
  hasOtherSubscriber(uri: string, except: RouterClient): boolean {
    for (const session of this.sessions) if (session !== except && session.subscriptions.has(uri)) return true;
    return false;
  }

  /**
   * Detaches a client that left and fails the server→client requests it was asked. Its own requests were cancelled
   * through their signals, so a flight other clients still wait for goes on.
   */
  detach(session: RouterClient): void {
    this.sessions.delete(session);
    for (const [id, upstream] of this.#upstream) {
      if (upstream.session !== session) continue;
      this.#upstream.delete(id);
      this.link.send({
        jsonrpc: '2.0',
        id: upstream.childRequestId,
        error: { code: ErrorCode.InternalError, message: 'The client that was asked disconnected' },
      });
    }
  }
}

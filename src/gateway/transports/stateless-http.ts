import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type Clock, realClock } from '../../clock/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type { Endpoint } from '../endpoint.js';
import type { ClientTransport, FrameContext, TransportHandlers } from '../transport.js';

/** The stateless revision, served beside the 2025 ones. */
export const MODERN_REVISION = '2026-07-28';
/** Every revision served: the stateless one, and those with sessions (HTTP) or connections (sockets). */
export const SERVED_REVISIONS = [MODERN_REVISION, '2025-11-25', '2025-06-18', '2025-03-26'];
/** `_meta` keys of a 2026-07-28 request's envelope, and of a result's server info. */
export const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';
/** How long `server/discover` waits for an endpoint whose children are (re)starting. */
const DISCOVER_WAIT_MS = 30_000;

/** The protocol version a message's `_meta` envelope claims, or undefined (a 2025-era message). */
export function envelopeVersion(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const meta = (body as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  const version = meta?.[PROTOCOL_VERSION_KEY];
  return typeof version === 'string' ? version : undefined;
}

/** The answer to `server/discover` (its `result` or `error` member): the revisions served, the capabilities. */
export async function discover(endpoint: Endpoint): Promise<{ result: unknown } | { error: unknown }> {
  const outcome = await endpoint.initialize(AbortSignal.timeout(DISCOVER_WAIT_MS));
  if (outcome.kind === 'error') return { error: outcome.error };
  const { capabilities, serverInfo, instructions } = outcome.result as {
    capabilities?: unknown;
    serverInfo?: unknown;
    instructions?: unknown;
  };
  return {
    result: {
      resultType: 'complete',
      supportedVersions: SERVED_REVISIONS,
      capabilities: capabilities ?? {},
      ...(typeof instructions === 'string' ? { instructions } : {}),
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { [SERVER_INFO_KEY]: serverInfo },
    },
  };
}

/** The id of the `initialize` an exchange sends on its client's behalf (its answer is not the client's). */
const INITIALIZE_ID = '"omnimind-stateless-initialize"';
/** What an exchange tells its session once `initialize` is sent: the session then asks a client with roots for them. */
const INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}';
/** The id text a session's own `roots/list` starts with (`"omnimind-roots-<n>"`, session.ts). */
const SESSION_ROOTS_ID = '"omnimind-roots-';
/** Methods whose 2026-07-28 results must say how long they may be cached and by whom. */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);
/** Server→client requests the 2026-07-28 revision carries inside an `input_required` result. */
const INPUT_METHODS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** One leg of a 2026-07-28 request: where its answer (and progress on the way) reaches the client. */
export interface StatelessLeg {
  /** The id text of the request this leg answers. */
  readonly idText: string;
  /** Whether notifications (progress) can reach the client before the answer. */
  readonly streams: boolean;
  /** Writes a notification to the client. */
  notify(frame: string): void;
  /** Writes the answer; the leg is over. */
  end(message: unknown): void;
  /** Hears that the client hung up before the answer. */
  onAbandon(callback: () => void): void;
}

/** A leg answered on an HTTP response: an SSE stream when `sse`, else one JSON body. */
export function httpLeg(idText: string, response: ServerResponse, sse: boolean): StatelessLeg {
  if (sse) {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    response.flushHeaders();
  }
  const event = (frame: string) =>
    response.write(`event: message\ndata: ${frame.endsWith('\n') ? frame.slice(0, -1) : frame}\n\n`);
  return {
    idText,
    streams: sse,
    notify: (frame) => void event(frame),
    end(message) {
      if (response.destroyed) return;
      const text = JSON.stringify(message);
      if (!sse) return void response.writeHead(200, { 'Content-Type': 'application/json' }).end(text);
      event(text);
      response.end();
    },
    onAbandon: (callback) =>
      void response.on('close', () => {
        if (!response.writableFinished) callback();
      }),
  };
}

/** A leg answered on a connection that carries frames both ways (a unix socket): its owner sees the hang-up. */
export function frameLeg(idText: string, write: (frame: string) => void): StatelessLeg {
  return {
    idText,
    streams: true,
    notify: (frame) => write(frame.endsWith('\n') ? frame : `${frame}\n`),
    end: (message) => write(`${JSON.stringify(message)}\n`),
    onAbandon: () => {},
  };
}

/** Options of a StatelessExchange. */
export interface StatelessOptions {
  /** How the client reached the supervisor (`http`, `unix`). */
  kind: string;
  credential: string;
  endpointName: string;
  /** The method of the request the exchange runs (its result is shaped for the revision). */
  method: string;
  /** How long the exchange waits for the client's retry before it is let go (the limiter's request timeout, ms). */
  inputTimeoutMs: number;
  /** The time source of that wait (tests use fake time). */
  clock?: Clock;
  /** Hears that the exchange waits for the client's input under a `requestState`. */
  onAwaitInput(exchange: StatelessExchange): void;
  /** Hears that the exchange is over. */
  onEnd(exchange: StatelessExchange): void;
}

/** The `initialize` an exchange sends on its client's behalf, declaring the capabilities the request's `_meta` did. */
function initializeFrame(capabilities: Record<string, unknown>, clientInfo: unknown): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: JSON.parse(INITIALIZE_ID),
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities, clientInfo: clientInfo ?? { name: 'http', version: '0' } },
  });
}

/** A 2026-07-28 result as JSON text: `resultType`, and cache hints on what may be cached. */
function modernResult(result: Record<string, unknown>, method: string): Record<string, unknown> {
  const shaped: Record<string, unknown> = { resultType: 'complete', ...result };
  if (CACHEABLE.has(method)) {
    shaped.ttlMs ??= 0;
    shaped.cacheScope ??= 'private';
  }
  return shaped;
}

/**
 * One request of a 2026-07-28 client (no session): a session of its own for the life of the request, opened with
 * the capabilities of the request's `_meta`. When the 2025-era child asks the client something (sampling,
 * elicitation, roots), the request is answered `input_required` with the question; the client's retry carries
 * the answers and the `requestState` that finds this exchange again, and gets the final result.
 */
export class StatelessExchange implements ClientTransport {
  readonly kind: string;
  readonly credential: string;
  readonly endpointName: string;
  /** The token the client's retry names; set while the exchange waits for input. */
  requestState: string | undefined;
  readonly #options: StatelessOptions;
  readonly #clock: Clock;
  #handlers: TransportHandlers | undefined;
  #leg: StatelessLeg | undefined;
  /** The id text of the request the session runs: the first leg's. */
  #requestIdText = '';
  /** The child's questions still unanswered: id text by key. */
  readonly #questions = new Map<string, { idText: string; method: string; params: unknown }>();
  /** The client's request, held until the session has the client's roots (it asked for them). */
  #held: { request: string; context: FrameContext | undefined } | undefined;
  #inputTimer: unknown;
  #closed = false;

  constructor(options: StatelessOptions) {
    this.kind = options.kind;
    this.credential = options.credential;
    this.endpointName = options.endpointName;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }

  /**
   * Runs the request: an `initialize` with the client's declared capabilities first, then the request itself, with
   * what the HTTP request carried beside it (its `traceparent` header).
   */
  begin(
    leg: StatelessLeg,
    capabilities: Record<string, unknown>,
    clientInfo: unknown,
    request: string,
    context?: FrameContext,
  ): void {
    this.#attach(leg);
    this.#requestIdText = leg.idText;
    this.#handlers?.onFrame(initializeFrame(capabilities, clientInfo));
    // A client that declared roots is asked for them (`input_required`) before its request runs: its own roots, never
    // the configured ones nor another client's, bind the request.
    if (capabilities.roots !== undefined) this.#handlers?.onFrame(INITIALIZED);
    // The session asks at once when its endpoint honours roots; the request then waits for the answer here, so that
    // it can never run with the configured roots however long the client takes.
    if (this.#asksRoots()) this.#held = { request, context };
    else this.#handlers?.onFrame(request, context);
  }

  /** Takes the client's retry: its answers go to the child, and this leg gets the result (or the next question). */
  resume(leg: StatelessLeg, answers: Record<string, unknown>): void {
    this.requestState = undefined;
    this.#clock.clearTimeout(this.#inputTimer);
    this.#attach(leg);
    for (const [key, result] of Object.entries(answers)) {
      const question = this.#questions.get(key);
      if (question === undefined) continue;
      this.#questions.delete(key);
      this.#handlers?.onFrame(`{"jsonrpc":"2.0","id":${question.idText},"result":${JSON.stringify(result)}}`);
    }
    const held = this.#held;
    if (held !== undefined && !this.#asksRoots()) {
      this.#held = undefined;
      this.#handlers?.onFrame(held.request, held.context);
    }
    if (this.#questions.size > 0) this.#askInput();
  }

  /** Whether the session's own `roots/list` (not a child's) is among the open questions. */
  #asksRoots(): boolean {
    for (const question of this.#questions.values()) {
      if (question.method === 'roots/list' && question.idText.startsWith(SESSION_ROOTS_ID)) return true;
    }
    return false;
  }

  #attach(leg: StatelessLeg): void {
    this.#leg = leg;
    // A client that hangs up while its request runs cancels it; one that hangs up while asked waits for its retry.
    leg.onAbandon(() => {
      if (this.#leg === leg) this.close();
    });
  }

  send(frame: string): void {
    if (this.#closed) return;
    const message = JSON.parse(frame) as Record<string, unknown>;
    const idText = message.id === undefined ? undefined : JSON.stringify(message.id);
    if (typeof message.method === 'string') {
      if (idText !== undefined && INPUT_METHODS.has(message.method)) {
        this.#questions.set(String(message.id), { idText, method: message.method, params: message.params });
        if (this.#leg !== undefined) this.#askInput();
        return;
      }
      if (message.method === 'notifications/progress' && this.#leg?.streams) this.#leg.notify(frame);
      return;
    }
    if (idText === INITIALIZE_ID) {
      if (message.error !== undefined) this.#finish(message);
      return;
    }
    if (idText !== this.#requestIdText) return;
    this.#finish(message);
  }

  /** Answers the current leg `input_required` with every open question, and waits for the retry. */
  #askInput(): void {
    const leg = this.#leg;
    if (leg === undefined) return;
    this.#leg = undefined;
    this.requestState = randomBytes(18).toString('base64url');
    // A client that never retries holds nothing for longer than any request may take.
    this.#inputTimer = this.#clock.setTimeout(() => this.close(), this.#options.inputTimeoutMs);
    const inputRequests = Object.fromEntries(
      [...this.#questions].map(([key, q]) => [
        key,
        q.params === undefined ? { method: q.method } : { method: q.method, params: q.params },
      ]),
    );
    leg.end({
      jsonrpc: '2.0',
      id: JSON.parse(leg.idText),
      result: { resultType: 'input_required', inputRequests, requestState: this.requestState },
    });
    this.#options.onAwaitInput(this);
  }

  /** Answers the current leg with the request's outcome, under the leg's own id, and ends the exchange. */
  #finish(message: Record<string, unknown>): void {
    const leg = this.#leg;
    this.#leg = undefined;
    if (leg !== undefined) {
      const { result, error } = message as { result?: Record<string, unknown>; error?: unknown };
      const answer =
        error === undefined
          ? { jsonrpc: '2.0', id: JSON.parse(leg.idText), result: modernResult(result ?? {}, this.#options.method) }
          : { jsonrpc: '2.0', id: JSON.parse(leg.idText), error };
      leg.end(answer);
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#inputTimer);
    this.#held = undefined;
    const leg = this.#leg;
    this.#leg = undefined;
    leg?.end({
      jsonrpc: '2.0',
      id: JSON.parse(leg.idText),
      error: { code: ErrorCode.InternalError, message: 'Internal error: the request ended before it was answered' },
    });
    this.#questions.clear();
    this.#handlers?.onClose();
    this.#options.onEnd(this);
  }
}

/** What a `subscriptions/listen` asks for: list changes by kind, and updates of resources by URI. */
export interface ListenFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** The `_meta` key that ties a notification to its `subscriptions/listen` stream. */
const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';
/** Which filter flag lets each list-change notification through. */
const LIST_CHANGES: Record<string, keyof ListenFilter> = {
  'notifications/tools/list_changed': 'toolsListChanged',
  'notifications/prompts/list_changed': 'promptsListChanged',
  'notifications/resources/list_changed': 'resourcesListChanged',
};

/**
 * A 2026-07-28 `subscriptions/listen` stream: a session of its own for as long as the client keeps the SSE response
 * open, acknowledged first, then carrying the list changes and resource updates the client opted in to, each tagged
 * with the listen request's id. Closing the response ends the session and its resource subscriptions.
 */
export class ListenHttpExchange implements ClientTransport {
  readonly kind = 'http';
  readonly #response: ServerResponse;
  readonly #subscriptionId: unknown;
  readonly #filter: ListenFilter;
  readonly #onEnd: () => void;
  #handlers: TransportHandlers | undefined;
  #closed = false;

  constructor(response: ServerResponse, subscriptionId: unknown, filter: ListenFilter, onEnd: () => void) {
    this.#response = response;
    this.#subscriptionId = subscriptionId;
    this.#filter = filter;
    this.#onEnd = onEnd;
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }

  /** Opens the stream: the session is initialized and subscribed, and the client told what is honoured. */
  begin(clientInfo: unknown): void {
    const response = this.#response;
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    response.socket?.setTimeout(0);
    response.on('close', () => this.close());
    this.#handlers?.onFrame(initializeFrame({}, clientInfo));
    const uris = this.#filter.resourceSubscriptions ?? [];
    uris.forEach((uri, i) => {
      this.#handlers?.onFrame(
        JSON.stringify({ jsonrpc: '2.0', id: `omnimind-listen-${i}`, method: 'resources/subscribe', params: { uri } }),
      );
    });
    const honoured: ListenFilter = {};
    for (const flag of Object.values(LIST_CHANGES))
      if (this.#filter[flag] === true) Object.assign(honoured, { [flag]: true });
    if (uris.length > 0) honoured.resourceSubscriptions = uris;
    this.#notify({ method: 'notifications/subscriptions/acknowledged', params: { notifications: honoured } });
  }

  send(frame: string): void {
    if (this.#closed) return;
    const message = JSON.parse(frame) as { method?: unknown; id?: unknown; params?: Record<string, unknown> };
    if (typeof message.method !== 'string' || message.id !== undefined) return;
    const flag = LIST_CHANGES[message.method];
    const wanted =
      flag !== undefined
        ? this.#filter[flag] === true
        : message.method === 'notifications/resources/updated' &&
          (this.#filter.resourceSubscriptions ?? []).includes(String(message.params?.uri));
    if (wanted) this.#notify({ method: message.method, params: message.params ?? {} });
  }

  /** Writes a notification tagged with the subscription's id. */
  #notify(message: { method: string; params: Record<string, unknown> }): void {
    const meta = {
      ...((message.params._meta as Record<string, unknown> | undefined) ?? {}),
      [SUBSCRIPTION_ID_KEY]: this.#subscriptionId,
    };
    const text = JSON.stringify({ jsonrpc: '2.0', method: message.method, params: { ...message.params, _meta: meta } });
    this.#response.write(`event: message\ndata: ${text}\n\n`);
  }

  /** Sends an SSE comment, so that idle proxies keep the stream. */
  keepAlive(): void {
    if (!this.#closed && this.#response.writableLength === 0) this.#response.write(': keep-alive\n\n');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#response.writableEnded) this.#response.end();
    this.#handlers?.onClose();
    this.#onEnd();
  }
}

import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { FetchOptions } from '../cache/index.js';
import { CLIENT_ROOTS_META_KEY } from '../children/shared/client-roots.js';
import { type Priority, resolvePriority } from '../limiter/index.js';
import type { RequestProbe, Telemetry } from '../metrics/index.js';
import {
  Cancellation,
  ErrorCode,
  encodeFrame,
  type JsonRpcErrorObject,
  type JsonRpcId,
  parseFrame,
  readIdText,
  rejectionFor,
  scanFrame,
} from '../protocol/index.js';
import type { RouteOutcome } from './child-router.js';
import type { Endpoint, Member } from './endpoint.js';
import { compressResultJson, resultBudget } from './result-compression.js';
import { type ClientTransport, type FrameContext, LOCAL_CREDENTIAL } from './transport.js';
import type { RequestCache, RequestLimiter, RouterClient } from './types.js';

/** How long `initialize` waits for a child that is (re)starting. */
const INITIALIZE_WAIT_MS = 30_000;
/** How long requests wait for a client's answer to `roots/list` before using the configured roots (a short pause). */
const ROOTS_WAIT_MS = 5_000;

/**
 * From this size on a request's params are forwarded as the client wrote them rather than re-encoded: scanning a
 * frame for them costs about what re-encoding small params does, and far less for large ones (BENCHMARKS.md).
 */
const SPLICE_MIN_CHARS = 1024;
/**
 * Params nested deeper than this are re-encoded all the same: JSON too deep to encode is refused here, as it always
 * was, and never reaches a child that might not cope with it.
 */
const SPLICE_MAX_DEPTH = 256;

/** The answer of requests answered here with nothing to say (ping, logging/setLevel). */
const EMPTY_RESULT: RouteOutcome = { kind: 'result', json: '{}' };

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** The shared services and settings every session of an endpoint uses. */
export interface SessionServices {
  cache?: RequestCache;
  limiter?: RequestLimiter;
  /** Request counters, latency histograms and spans. */
  telemetry?: Telemetry;
  /** Default priorities per client name (from `initialize`'s clientInfo). */
  clientPriorities: Readonly<Record<string, Priority>>;
}

/** The JSON text of a frame's top-level `params`, as written; undefined when it has none. */
function paramsTextOf(frame: string): string | undefined {
  const shape = scanFrame(frame);
  if (shape === undefined || shape.paramsStart === -1 || shape.depth > SPLICE_MAX_DEPTH) return undefined;
  return frame.slice(shape.paramsStart, shape.paramsEnd);
}

/** The wire error for a request the limiter refused or that failed inside the gateway. */
function errorFor(error: {
  code?: string;
  retryAfterMs?: number;
  priority?: string;
  timeoutMs?: number;
  message?: string;
}): JsonRpcErrorObject {
  if (error.code === 'SHED') {
    return {
      code: ErrorCode.Overloaded,
      message: 'Overloaded: request shed; retry later',
      data: { retryAfterMs: error.retryAfterMs, priority: error.priority },
    };
  }
  if (error.code === 'TIMEOUT') {
    return {
      code: ErrorCode.RequestTimeout,
      message: `Request timed out after ${error.timeoutMs} ms`,
      data: { timeoutMs: error.timeoutMs },
    };
  }
  return { code: ErrorCode.InternalError, message: `Internal error: ${error.message ?? String(error)}` };
}

/** A client's request from its dispatch until it is answered or cancelled. */
interface ClientRequest {
  /** Its id, the request's key among those in flight: a Map tells 1 from "1", as JSON-RPC does. */
  key: JsonRpcId;
  /** Its id exactly as the client wrote it. */
  idText: string;
  method: string;
  params: Record<string, unknown> | undefined;
  /** The JSON text of `params` as the client wrote it, when large enough to forward as written. */
  paramsText: string | undefined;
  /** Cancelled by the client's `notifications/cancelled`, its disconnection, or the request's deadline. */
  cancellation: Cancellation;
}

/** One request under way at a member, as `#answered` and `#failed` account for it. */
interface Call {
  /** The answer under way; undefined when the cache answered at once (`hit`). */
  run: Promise<RouteOutcome> | undefined;
  hit: RouteOutcome | undefined;
  attachment: Attachment | undefined;
  router: Member['router'];
  startedAt: number;
  probe: RequestProbe | undefined;
}

/** One client's presence at one child: what that child's router sees of the session. */
class Attachment implements RouterClient {
  requestsInFlight = 0;
  readonly subscriptions = new Set<string>();
  readonly session: ClientSession;
  readonly member: Member;

  constructor(session: ClientSession, member: Member) {
    this.session = session;
    this.member = member;
  }

  get minLogLevelIndex(): number {
    return this.session.minLogLevelIndex;
  }

  hasCapability(name: string): boolean {
    return this.session.hasCapability(name);
  }

  sendMessage(message: Record<string, unknown>): void {
    this.session.fromChild(this, message);
  }

  cancelUpstream(id: string): void {
    this.session.fromChild(this, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: 'the server restarted' },
    });
  }
}

/** One connected MCP client on an endpoint, over any transport. */
export class ClientSession {
  /** Index into the MCP log levels below which this client does not want log notifications (0 = all). */
  minLogLevelIndex = 0;
  readonly endpoint: Endpoint;
  readonly #transport: ClientTransport;
  readonly #services: SessionServices;
  readonly #attachments = new Map<Member, Attachment>();
  readonly #inFlight = new Map<JsonRpcId, ClientRequest>();
  /** Which child asked each server→client request still waiting for this client's answer. */
  readonly #upstreamOwners = new Map<string, Attachment>();
  #capabilities: Record<string, unknown> = {};
  #clientPriority: Priority | undefined;
  #initialized = false;
  #closed = false;
  /** The client's root URIs (undefined: it declared none) and their text as part of cache keys. */
  #roots: string[] | undefined;
  #rootsScope = '';
  /** Settles once the client's first roots are known; undefined when nothing is being waited for. */
  #rootsPending: Promise<void> | undefined;
  #rootsSettle: (() => void) | undefined;
  #rootsRequest = 0;
  readonly #onClose: ((session: ClientSession) => void) | undefined;
  /** Whose answers this client may be served from the cache when they are private (the sockets' user is the owner). */
  readonly #credential: string;

  constructor(
    transport: ClientTransport,
    endpoint: Endpoint,
    services: SessionServices,
    onClose?: (session: ClientSession) => void,
  ) {
    this.#transport = transport;
    this.endpoint = endpoint;
    this.#services = services;
    this.#onClose = onClose;
    this.#credential = transport.credential ?? LOCAL_CREDENTIAL;
    this.syncMembers();
    transport.start({ onFrame: (frame, context) => this.#onFrame(frame, context), onClose: () => this.close() });
  }

  /** Attaches to the endpoint's members as they are now (a reload may have changed a profile's children). */
  syncMembers(): void {
    if (this.#closed) return;
    const members = new Set(this.endpoint.members);
    for (const [member, attachment] of this.#attachments) {
      if (members.has(member)) continue;
      member.router.detach(attachment);
      this.#attachments.delete(member);
    }
    for (const member of members) {
      if (this.#attachments.has(member)) continue;
      const attachment = new Attachment(this, member);
      this.#attachments.set(member, attachment);
      member.router.sessions.add(attachment);
    }
  }

  /** How the client is connected (`unix`, `http`). */
  get transportKind(): string {
    return this.#transport.kind;
  }

  /** Whether the client has completed `initialize`: only then is it told that lists changed. */
  get initialized(): boolean {
    return this.#initialized;
  }

  /** Whether the client declared a capability (sampling, elicitation, roots) in `initialize`. */
  hasCapability(name: string): boolean {
    return this.#capabilities[name] !== undefined;
  }

  /** Writes a message to the client. */
  sendMessage(message: unknown): void {
    if (!this.#closed) this.#transport.send(encodeFrame(message));
  }

  /** A message a child sends this client: requests are remembered so that the client's answer finds that child. */
  fromChild(attachment: Attachment, message: Record<string, unknown>): void {
    if (message.id !== undefined && typeof message.method === 'string') {
      this.#upstreamOwners.set(String(message.id), attachment);
    } else if (message.method === 'notifications/cancelled') {
      this.#upstreamOwners.delete(String((message.params as { requestId?: unknown } | undefined)?.requestId));
    }
    this.sendMessage(message);
  }

  #write(frame: string): void {
    if (!this.#closed) this.#transport.send(frame);
  }

  /** Answers with an error; `idText` is the request's id as the client wrote it (`null` when it has none). */
  #sendError(idText: string, code: number, message: string, data?: unknown): void {
    const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
    this.#sendOutcome(idText, { kind: 'error', error });
  }

  /** Answers a request; `idText` is its id exactly as the client wrote it. */
  #sendOutcome(idText: string, outcome: RouteOutcome): void {
    if (outcome.kind === 'result') this.#write(`{"jsonrpc":"2.0","id":${idText},"result":${outcome.json}}\n`);
    else this.#write(`{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify(outcome.error)}}\n`);
  }

  #onFrame(frame: string, context: FrameContext | undefined): void {
    if (this.#closed) return;
    try {
      this.#handleFrame(frame, context);
    } catch (error) {
      // Input no handler can cope with (nesting too deep to re-encode, say) costs this frame only, never the others.
      const idText = readIdText(frame) ?? 'null';
      this.#sendError(
        idText,
        ErrorCode.InternalError,
        `Internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  #handleFrame(frame: string, context: FrameContext | undefined): void {
    const parsed = parseFrame(frame);
    const rejection = rejectionFor(parsed);
    if (rejection) return this.sendMessage(rejection);
    switch (parsed.kind) {
      case 'request': {
        const id = parsed.message.id;
        // A safe integer re-encodes to a value equal to any spelling of it; only other numbers (beyond 2^53,
        // fractions) need their text read from the frame, so the common request pays no scan.
        const idText =
          typeof id === 'number' && !Number.isSafeInteger(id) ? (readIdText(frame) ?? String(id)) : JSON.stringify(id);
        const params =
          context?.traceparent === undefined
            ? parsed.message.params
            : this.#withTraceparent(parsed.message.params, context.traceparent);
        // Large params go on to the child as the client wrote them, unless something on the way changes them.
        const paramsText =
          frame.length >= SPLICE_MIN_CHARS && params === parsed.message.params ? paramsTextOf(frame) : undefined;
        return this.#onRequest(id, idText, parsed.message.method, params, paramsText);
      }
      case 'notification':
        return this.#onNotification(parsed.message.method, parsed.message.params);
      case 'response': {
        const message = parsed.message as unknown as Record<string, unknown>;
        if (message.id === this.#rootsRequestId()) return this.#onRootsAnswer(message);
        const id = String(message.id);
        const owner = this.#upstreamOwners.get(id);
        if (!owner) return;
        this.#upstreamOwners.delete(id);
        return owner.member.router.answerUpstream(owner, message);
      }
    }
  }

  #rootsRequestId(): string {
    return `omnimind-roots-${this.#rootsRequest}`;
  }

  /** Asks the client for its roots; requests wait (briefly) for the first answer. */
  #requestRoots(): void {
    this.#rootsRequest++;
    this.sendMessage({ jsonrpc: '2.0', id: this.#rootsRequestId(), method: 'roots/list' });
  }

  /** Takes the client's answer to `roots/list`: its roots apply to its own requests only. */
  #onRootsAnswer(message: { result?: unknown; error?: unknown }): void {
    const roots = (message.result as { roots?: unknown } | undefined)?.roots;
    if (Array.isArray(roots)) {
      // An empty list declares nothing: like a client without roots, it gets the configured ones.
      const uris = roots.flatMap((root) => (typeof root?.uri === 'string' ? [root.uri as string] : [])).sort();
      this.#roots = uris.length === 0 ? undefined : uris;
      this.#rootsScope = this.#roots === undefined ? '' : JSON.stringify(this.#roots);
    }
    this.#settleRoots();
  }

  #settleRoots(): void {
    this.#rootsSettle?.();
    this.#rootsSettle = undefined;
    this.#rootsPending = undefined;
  }

  #onRequest(
    id: JsonRpcId,
    idText: string,
    method: string,
    params: Record<string, unknown> | undefined,
    paramsText: string | undefined,
  ): void {
    switch (method) {
      case 'initialize':
        return void this.#initialize(idText, params);
      case 'ping':
        return this.#sendOutcome(idText, EMPTY_RESULT);
      case 'logging/setLevel': {
        const index = LEVELS.indexOf(String(params?.level));
        if (index === -1)
          return this.#sendError(idText, ErrorCode.InvalidParams, `Unknown log level ${String(params?.level)}`);
        this.minLogLevelIndex = index;
        for (const member of this.endpoint.members) member.router.updateLogLevel();
        return this.#sendOutcome(idText, EMPTY_RESULT);
      }
    }
    this.#dispatch({ key: id, idText, method, params, paramsText, cancellation: new Cancellation() });
  }

  async #initialize(idText: string, params: Record<string, unknown> | undefined): Promise<void> {
    this.#capabilities = (params?.capabilities as Record<string, unknown> | undefined) ?? {};
    const honoursRoots = this.endpoint.members.some((member) => member.honoursRoots);
    if (this.#capabilities.roots !== undefined && honoursRoots && this.#rootsPending === undefined) {
      // Until the client's roots are known its requests wait, so none runs with roots wider than it declared.
      this.#rootsPending = new Promise<void>((resolve) => {
        this.#rootsSettle = resolve;
      });
      setTimeout(() => this.#settleRoots(), ROOTS_WAIT_MS).unref();
    }
    const clientName = (params?.clientInfo as { name?: unknown } | undefined)?.name;
    if (typeof clientName === 'string') this.#clientPriority = this.#services.clientPriorities[clientName];
    const outcome = await this.endpoint.initialize(AbortSignal.timeout(INITIALIZE_WAIT_MS));
    if (outcome.kind === 'error') return this.#sendOutcome(idText, outcome);
    const requested = params?.protocolVersion;
    const protocolVersion =
      typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
        ? requested
        : outcome.result.protocolVersion;
    this.#initialized = true;
    this.#sendOutcome(idText, { kind: 'result', json: JSON.stringify({ ...outcome.result, protocolVersion }) });
  }

  #dispatch(request: ClientRequest): void {
    const { key, idText } = request;
    if (this.#inFlight.has(key)) {
      return this.#sendError(idText, ErrorCode.InvalidRequest, `Request id ${idText} is already in flight`);
    }
    this.#inFlight.set(key, request);
    if (this.#rootsPending !== undefined) {
      void this.#rootsPending.then(() => {
        if (this.#inFlight.get(key) === request) this.#route(request);
      });
      return;
    }
    this.#route(request);
  }

  #route(request: ClientRequest): void {
    const { method, params, cancellation } = request;
    const single = this.endpoint.single;
    const route = single === undefined ? this.endpoint.route(method, params) : undefined;
    if (route?.kind === 'answer') {
      const answer = route.answer(
        (member, memberMethod, memberParams, signal) => this.#onMember(member, memberMethod, memberParams, signal),
        cancellation.signal,
      );
      answer.then(
        (outcome) => this.#reply(request, outcome),
        (error) => this.#reply(request, { kind: 'error', error: errorFor(error) }),
      );
      return;
    }
    const member = route === undefined ? single! : route.member;
    const memberParams = route === undefined ? params : route.params;
    const unsubscribed = this.#subscription(member, method, memberParams);
    if (unsubscribed !== undefined) return this.#reply(request, unsubscribed);
    // A client's own request settles in the same step that records it: no promise layer per stage.
    const paramsText = memberParams === params ? request.paramsText : undefined;
    const call = this.#start(member, method, memberParams, cancellation, paramsText);
    if (call.run === undefined) return this.#reply(request, this.#answered(call, call.hit!));
    call.run.then(
      (outcome) => this.#reply(request, this.#answered(call, outcome)),
      (error) => {
        this.#failed(call, error);
        this.#reply(request, { kind: 'error', error: errorFor(error) });
      },
    );
  }

  /** Sends a request's outcome, unless it was cancelled (or its client left) meanwhile. */
  #reply(request: ClientRequest, outcome: RouteOutcome): void {
    if (this.#inFlight.get(request.key) !== request) return;
    this.#inFlight.delete(request.key);
    this.#sendOutcome(request.idText, outcome);
  }

  /** A request to one member on an endpoint's behalf (a profile's fan-out), counted like a client's own. */
  #onMember(
    member: Member,
    method: string,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<RouteOutcome> {
    const unsubscribed = this.#subscription(member, method, params);
    if (unsubscribed !== undefined) return Promise.resolve(unsubscribed);
    const call = this.#start(member, method, params, Cancellation.following(signal));
    if (call.run === undefined) return Promise.resolve(this.#answered(call, call.hit!));
    return call.run.then(
      (outcome) => this.#answered(call, outcome),
      (error) => {
        this.#failed(call, error);
        throw error;
      },
    );
  }

  /**
   * What subscriptions need of a request: the client's subscriptions are kept per member, and an unsubscribe another
   * client still needs is answered here (the outcome returned) and never reaches the child.
   */
  #subscription(member: Member, method: string, params: Record<string, unknown> | undefined): RouteOutcome | undefined {
    if (typeof params?.uri !== 'string') return undefined;
    const attachment = this.#attachments.get(member);
    if (attachment === undefined) return undefined;
    if (method === 'resources/subscribe') attachment.subscriptions.add(params.uri);
    if (method === 'resources/unsubscribe') {
      attachment.subscriptions.delete(params.uri);
      if (member.router.hasOtherSubscriber(params.uri, attachment)) return EMPTY_RESULT;
    }
    return undefined;
  }

  /** A transport's `traceparent` (an HTTP header) as the request's own, when tracing is on and `_meta` has none. */
  #withTraceparent(params: Record<string, unknown> | undefined, traceparent: string) {
    const meta = params?._meta as Record<string, unknown> | undefined;
    if (this.#services.telemetry?.tracing !== true || meta?.traceparent !== undefined) return params;
    return { ...params, _meta: { ...meta, traceparent } };
  }

  /** This client's roots on a request to a child that honours them; whatever the client put there is replaced. */
  #withRoots(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const written = params?._meta as Record<string, unknown> | undefined;
    // The common case, a client without roots that wrote none, costs nothing.
    if (this.#roots === undefined && (written === undefined || !(CLIENT_ROOTS_META_KEY in written))) return params;
    const { [CLIENT_ROOTS_META_KEY]: _, ...meta } = written ?? {};
    if (this.#roots !== undefined) meta[CLIENT_ROOTS_META_KEY] = this.#roots;
    return { ...params, _meta: meta };
  }

  /**
   * Starts one request on a member through the limiter, the cache and the child's router, counted as this client's
   * request at that child until `#answered` or `#failed`; `cancellation` cancels it. `paramsText` is the JSON text of
   * `requestParams` as the client wrote it, when known.
   */
  #start(
    member: Member,
    method: string,
    requestParams: Record<string, unknown> | undefined,
    cancellation: Cancellation,
    paramsText?: string,
  ): Call {
    const attachment = this.#attachments.get(member);
    const router = member.router;
    const ownParams = member.honoursRoots ? this.#withRoots(requestParams) : requestParams;
    const scope = member.honoursRoots ? this.#rootsScope : '';
    const startedAt = performance.now();
    const child = router.link.name;
    const meta = ownParams?._meta as Record<string, unknown> | undefined;
    const toolName = method === 'tools/call' && typeof ownParams?.name === 'string' ? ownParams.name : undefined;
    const priority = resolvePriority(meta, method, {
      client: this.#clientPriority,
      tool: toolName === undefined ? undefined : member.toolPriorities[toolName],
    });
    const probe = this.#services.telemetry?.begin({
      endpoint: this.endpoint.name,
      child,
      method,
      tool: toolName,
      tools: router.link.tools,
      priority,
      traceparent: meta?.traceparent,
    });
    // With tracing on the child is told this request's span, in place of whatever the client wrote.
    const params = probe === undefined ? ownParams : probe.forwarded(ownParams);
    const metaTimeout = meta?.timeoutMs;
    const timeoutMs = typeof metaTimeout === 'number' && metaTimeout > 0 ? metaTimeout : undefined;
    const budget = resultBudget(member.compression, method, params);
    const text = params === requestParams ? paramsText : undefined;
    const forward = (forwarding: Cancellation) => {
      const answer = router.forward(attachment, method, params, forwarding, text);
      return budget === undefined
        ? answer
        : answer.then(async (o) =>
            o.kind === 'result' ? { ...o, json: await compressResultJson(o.json, budget) } : o,
          );
    };
    const { cache, limiter } = this.#services;
    if (attachment !== undefined) attachment.requestsInFlight++;
    // A hit in memory is answered at once: it costs the child nothing, so it never waits for the limiter.
    // The limiter runs `load` with this request's own cancellation, the one these options name.
    const fetchOptions: FetchOptions = { cancellation, scope, credential: this.#credential };
    const hit = cache?.peek(child, method, params, fetchOptions);
    if (hit !== undefined) return { run: undefined, hit, attachment, router, startedAt, probe };
    const load = (loading: Cancellation) => {
      probe?.admitted();
      return cache ? cache.fetch(child, method, params, forward, fetchOptions) : forward(loading);
    };
    const run = limiter ? limiter.run(load, { priority, child, cancellation, timeoutMs }) : load(cancellation);
    return { run, hit: undefined, attachment, router, startedAt, probe };
  }

  /** Accounts for a request's answer (stats, metrics, the client's count at the child) and passes it on. */
  #answered(call: Call, outcome: RouteOutcome): RouteOutcome {
    if (call.attachment !== undefined) call.attachment.requestsInFlight--;
    const latencyMs = performance.now() - call.startedAt;
    const cached = (outcome as { cached?: boolean }).cached === true;
    call.router.stats.record(latencyMs, outcome.kind === 'error' ? 'error' : cached ? 'cached' : 'ok');
    call.probe?.answered(outcome, latencyMs);
    return outcome;
  }

  /** Accounts for a request the gateway failed (shed, timed out, internal error). */
  #failed(call: Call, error: unknown): void {
    if (call.attachment !== undefined) call.attachment.requestsInFlight--;
    const latencyMs = performance.now() - call.startedAt;
    call.router.stats.record(latencyMs, 'error');
    call.probe?.failed(error as Parameters<RequestProbe['failed']>[0], latencyMs);
  }

  #onNotification(method: string, params: Record<string, unknown> | undefined): void {
    switch (method) {
      case 'notifications/cancelled': {
        const requestId = params?.requestId;
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
        const request = this.#inFlight.get(requestId);
        if (request) {
          this.#inFlight.delete(requestId);
          request.cancellation.abort(new Error('cancelled by the client'));
        }
        return;
      }
      case 'notifications/initialized':
        if (this.#rootsPending !== undefined) this.#requestRoots();
        return;
      case 'notifications/roots/list_changed':
        // A client's roots bind its own requests only: the shared child is never told, so no client steers another.
        if (this.hasCapability('roots') && this.endpoint.members.some((member) => member.honoursRoots)) {
          this.#requestRoots();
        }
        return;
      default:
        for (const member of this.endpoint.members) member.router.forwardNotification(method, params);
    }
  }

  /** Closes the connection (after flushing what was written, if `flush`); in-flight requests are cancelled. Idempotent. */
  close(flush = false): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of this.#inFlight.values()) request.cancellation.abort(new Error('client disconnected'));
    this.#inFlight.clear();
    this.#upstreamOwners.clear();
    for (const attachment of this.#attachments.values()) attachment.member.router.detach(attachment);
    this.#transport.close(flush);
    this.#onClose?.(this);
  }
}

import type { Socket } from 'node:net';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { CLIENT_ROOTS_META_KEY } from '../children/shared/client-roots.js';
import { type Priority, resolvePriority } from '../limiter/index.js';
import {
  ErrorCode,
  encodeFrame,
  type JsonRpcErrorObject,
  type JsonRpcId,
  LineSplitter,
  parseFrame,
  readIdText,
  rejectionFor,
  writeCoalesced,
} from '../protocol/index.js';
import type { ChildRouter, RouteOutcome } from './child-router.js';
import type { ConnectionBudget } from './connection-budget.js';
import { type CompressionPolicy, compressResultJson, resultBudget } from './result-compression.js';
import type { RequestCache, RequestLimiter } from './types.js';

/** A client that stops reading may hold at most this much unsent output before it is disconnected. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;
/** How long `initialize` waits for a child that is (re)starting. */
const INITIALIZE_WAIT_MS = 30_000;
/** How long requests wait for a client's answer to `roots/list` before using the configured roots (a short pause). */
const ROOTS_WAIT_MS = 5_000;

/** The answer of requests answered here with nothing to say (ping, logging/setLevel). */
const EMPTY_RESULT: RouteOutcome = { kind: 'result', json: '{}' };

const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** The shared services and settings every session of a gateway uses. */
export interface SessionServices {
  cache?: RequestCache;
  limiter?: RequestLimiter;
  maxFrameBytes: number;
  /** Default priorities: per client name (from `initialize`'s clientInfo) and per tool name. */
  priorities: { clients: Record<string, Priority>; tools: Record<string, Priority> };
  /** Token budgets for this child's text results. */
  compression?: CompressionPolicy;
  /** Waits until the child is RUNNING (true) or down for good / timed out (false). */
  waitForRunning(signal: AbortSignal): Promise<boolean>;
  /** The child confines each request to the roots of the client that sent it (`_meta["omnimind/roots"]`). */
  honoursRoots?: boolean;
  /** The supervisor-wide bound on unfinished frames, and how long one may stay unfinished. */
  budget?: ConnectionBudget;
}

/** The key of an in-flight request: ids that JSON-RPC treats as equal map to the same key. */
function keyOfId(id: JsonRpcId): string {
  return typeof id === 'string' ? `s${id}` : `n${id}`;
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

/** One connected MCP client on a child's socket. */
export class ClientSession {
  readonly subscriptions = new Set<string>();
  /** Index into the MCP log levels below which this client does not want log notifications (0 = all). */
  minLogLevelIndex = 0;
  readonly #socket: Socket;
  readonly #router: ChildRouter;
  readonly #services: SessionServices;
  readonly #splitter: LineSplitter;
  readonly #inFlight = new Map<string, AbortController>();
  #capabilities: Record<string, unknown> = {};
  #clientPriority: Priority | undefined;
  #closed = false;
  /** The client's root URIs (undefined: it declared none) and their text as part of cache keys. */
  #roots: string[] | undefined;
  #rootsScope = '';
  /** Settles once the client's first roots are known; undefined when nothing is being waited for. */
  #rootsPending: Promise<void> | undefined;
  #rootsSettle: (() => void) | undefined;
  #rootsRequest = 0;
  /** Bytes of this client's unfinished frame counted in the budget. */
  #bufferedBytes = 0;
  #frames = 0;
  #frameTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, router: ChildRouter, services: SessionServices) {
    this.#socket = socket;
    this.#router = router;
    this.#services = services;
    this.#splitter = new LineSplitter(
      {
        onFrame: (frame) => {
          this.#frames++;
          this.#onFrame(frame);
        },
        onOversize: (limitBytes, head) => {
          const idText = readIdText(head);
          const frame = `{"jsonrpc":"2.0","id":${idText ?? 'null'},"error":${JSON.stringify({
            code: ErrorCode.FrameTooLarge,
            message: `Frame larger than ${limitBytes} bytes`,
            data: { limitBytes },
          })}}\n`;
          this.#write(frame);
        },
      },
      services.maxFrameBytes,
    );
    router.sessions.add(this);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Splits the client's bytes into frames, keeping its unfinished frame within the budget's bytes and time. */
  #onData(chunk: Buffer): void {
    // A connection being closed reads nothing more: what it still sends is never held.
    if (this.#closed) return;
    const frames = this.#frames;
    this.#splitter.push(chunk);
    const budget = this.#services.budget;
    if (!budget || this.#closed) return;
    const pending = this.#splitter.pendingBytes;
    if (!budget.adjustBuffered(pending - this.#bufferedBytes)) {
      return this.#closeWithError(
        `The supervisor holds too many unfinished frames (gateway.maxBufferedBytes = ${budget.limits.maxBufferedBytes}); send whole frames`,
      );
    }
    this.#bufferedBytes = pending;
    if (pending === 0 || frames !== this.#frames) {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    }
    if (pending > 0 && this.#frameTimer === undefined) {
      const { frameTimeoutMs } = budget.limits;
      this.#frameTimer = setTimeout(
        () => this.#closeWithError(`Frame not completed within ${frameTimeoutMs} ms (gateway.frameTimeoutMs)`),
        frameTimeoutMs,
      );
    }
  }

  #closeWithError(message: string): void {
    this.#sendError('null', ErrorCode.InvalidRequest, message);
    this.close(true);
  }

  /** Requests of this client that have not been answered yet. */
  get requestsInFlight(): number {
    return this.#inFlight.size;
  }

  /** Whether the client declared a capability (sampling, elicitation, roots) in `initialize`. */
  hasCapability(name: string): boolean {
    return this.#capabilities[name] !== undefined;
  }

  /** Writes a message to the client; a client that stops reading is disconnected, never allowed to exhaust memory. */
  sendMessage(message: unknown): void {
    this.#write(encodeFrame(message));
  }

  #write(frame: string): void {
    if (this.#closed) return;
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) {
      this.#socket.destroy();
      return;
    }
    writeCoalesced(this.#socket, frame);
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

  /** Tells the client that a server→client request it was asked is void (the child restarted). */
  cancelUpstream(id: string): void {
    this.sendMessage({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: 'the server restarted' },
    });
  }

  #onFrame(frame: string): void {
    try {
      this.#handleFrame(frame);
    } catch (error) {
      // Input no handler can cope with (nesting too deep to re-encode, say) costs this frame only, never the others.
      const idText = readIdText(frame) ?? 'null';
      const message = `Internal error: ${error instanceof Error ? error.message : String(error)}`;
      this.#write(
        `{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify({ code: ErrorCode.InternalError, message })}}\n`,
      );
    }
  }

  #handleFrame(frame: string): void {
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
        return this.#onRequest(id, idText, parsed.message.method, parsed.message.params);
      }
      case 'notification':
        return this.#onNotification(parsed.message.method, parsed.message.params);
      case 'response':
        if (parsed.message.id === this.#rootsRequestId()) return this.#onRootsAnswer(parsed.message);
        return this.#router.answerUpstream(this, parsed.message as unknown as Record<string, unknown>);
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

  #onRequest(id: JsonRpcId, idText: string, method: string, params: Record<string, unknown> | undefined): void {
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
        this.#router.updateLogLevel();
        return this.#sendOutcome(idText, EMPTY_RESULT);
      }
      case 'resources/subscribe':
        if (typeof params?.uri === 'string') this.subscriptions.add(params.uri);
        break;
      case 'resources/unsubscribe':
        if (typeof params?.uri === 'string') {
          this.subscriptions.delete(params.uri);
          if (this.#router.hasOtherSubscriber(params.uri, this)) return this.#sendOutcome(idText, EMPTY_RESULT);
        }
        break;
    }
    this.#dispatch(id, idText, method, params);
  }

  async #initialize(idText: string, params: Record<string, unknown> | undefined): Promise<void> {
    this.#capabilities = (params?.capabilities as Record<string, unknown> | undefined) ?? {};
    if (this.#capabilities.roots !== undefined && this.#services.honoursRoots && this.#rootsPending === undefined) {
      // Until the client's roots are known its requests wait, so none runs with roots wider than it declared.
      this.#rootsPending = new Promise<void>((resolve) => {
        this.#rootsSettle = resolve;
      });
      setTimeout(() => this.#settleRoots(), ROOTS_WAIT_MS).unref();
    }
    const clientName = (params?.clientInfo as { name?: unknown } | undefined)?.name;
    if (typeof clientName === 'string') this.#clientPriority = this.#services.priorities.clients[clientName];
    const link = this.#router.link;
    if (link.state !== 'RUNNING' && !(await this.#services.waitForRunning(AbortSignal.timeout(INITIALIZE_WAIT_MS)))) {
      return this.#sendOutcome(idText, this.#router.unavailable(link.state));
    }
    const childResult = link.initializeResult ?? {};
    const requested = params?.protocolVersion;
    const protocolVersion =
      typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
        ? requested
        : childResult.protocolVersion;
    this.#sendOutcome(idText, { kind: 'result', json: JSON.stringify({ ...childResult, protocolVersion }) });
  }

  #dispatch(id: JsonRpcId, idText: string, method: string, params: Record<string, unknown> | undefined): void {
    const key = keyOfId(id);
    if (this.#inFlight.has(key)) {
      return this.#sendOutcome(idText, {
        kind: 'error',
        error: { code: ErrorCode.InvalidRequest, message: `Request id ${idText} is already in flight` },
      });
    }
    const controller = new AbortController();
    this.#inFlight.set(key, controller);
    if (this.#rootsPending !== undefined) {
      const pending = this.#rootsPending;
      void pending.then(() => {
        if (this.#inFlight.get(key) === controller) this.#run(key, idText, controller, method, params);
      });
      return;
    }
    this.#run(key, idText, controller, method, params);
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

  #run(
    key: string,
    idText: string,
    controller: AbortController,
    method: string,
    requestParams: Record<string, unknown> | undefined,
  ): void {
    const params = this.#services.honoursRoots ? this.#withRoots(requestParams) : requestParams;
    const scope = this.#services.honoursRoots ? this.#rootsScope : '';
    const startedAt = performance.now();
    const child = this.#router.link.name;
    const meta = params?._meta;
    const toolName = method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
    const priority = resolvePriority(meta, method, {
      client: this.#clientPriority,
      tool: toolName === undefined ? undefined : this.#services.priorities.tools[toolName],
    });
    const metaTimeout = (meta as Record<string, unknown> | undefined)?.timeoutMs;
    const timeoutMs = typeof metaTimeout === 'number' && metaTimeout > 0 ? metaTimeout : undefined;
    const budget = resultBudget(this.#services.compression, method, params);
    const forward = (signal: AbortSignal) => {
      const answer = this.#router.forward(this, method, params, signal);
      return budget === undefined
        ? answer
        : answer.then(async (o) =>
            o.kind === 'result' ? { ...o, json: await compressResultJson(o.json, budget) } : o,
          );
    };
    const load = (signal: AbortSignal) =>
      this.#services.cache
        ? this.#services.cache.fetch(child, method, params, forward, { signal, scope })
        : forward(signal);
    const run = this.#services.limiter
      ? this.#services.limiter.run(load, {
          priority,
          child,
          controller,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        })
      : load(controller.signal);
    run.then(
      (outcome) => {
        if ((outcome as { cached?: boolean }).cached) this.#router.stats.recordHit(performance.now() - startedAt);
        if (this.#inFlight.get(key) !== controller) return;
        this.#inFlight.delete(key);
        this.#sendOutcome(idText, outcome);
      },
      (error: { code?: string; retryAfterMs?: number; priority?: string; timeoutMs?: number; message?: string }) => {
        if (this.#inFlight.get(key) !== controller) return;
        this.#inFlight.delete(key);
        this.#sendOutcome(idText, { kind: 'error', error: errorFor(error) });
      },
    );
  }

  #onNotification(method: string, params: Record<string, unknown> | undefined): void {
    switch (method) {
      case 'notifications/cancelled': {
        const requestId = params?.requestId;
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
        const key = keyOfId(requestId);
        const controller = this.#inFlight.get(key);
        if (controller) {
          this.#inFlight.delete(key);
          controller.abort(new Error('cancelled by the client'));
        }
        return;
      }
      case 'notifications/initialized':
        if (this.#rootsPending !== undefined) this.#requestRoots();
        return;
      case 'notifications/roots/list_changed':
        // A client's roots bind its own requests only: the shared child is never told, so no client steers another.
        if (this.#services.honoursRoots && this.hasCapability('roots')) this.#requestRoots();
        return;
      default:
        this.#router.forwardNotification(method, params);
    }
  }

  /** Closes the connection (after flushing what was written, if `flush`); in-flight requests are cancelled. Idempotent. */
  close(flush = false): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#frameTimer);
    this.#services.budget?.adjustBuffered(-this.#bufferedBytes);
    this.#bufferedBytes = 0;
    for (const controller of this.#inFlight.values()) controller.abort(new Error('client disconnected'));
    this.#inFlight.clear();
    this.#router.detach(this);
    if (!flush) return void this.#socket.destroy();
    this.#socket.pause();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1_000).unref();
  }
}

import type { Socket } from 'node:net';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { type Priority, resolvePriority } from '../limiter/index.js';
import {
  ErrorCode,
  encodeFrame,
  type JsonRpcErrorObject,
  type JsonRpcId,
  LineSplitter,
  parseFrame,
  rejectionFor,
  writeCoalesced,
} from '../protocol/index.js';
import type { ChildRouter, RouteOutcome } from './child-router.js';
import { type CompressionPolicy, compressResultJson, resultBudget } from './result-compression.js';
import type { RequestCache, RequestLimiter } from './types.js';

/** A client that stops reading may hold at most this much unsent output before it is disconnected. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;
/** How long `initialize` waits for a child that is (re)starting. */
const INITIALIZE_WAIT_MS = 30_000;

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
  readonly #inFlight = new Map<JsonRpcId, AbortController>();
  #capabilities: Record<string, unknown> = {};
  #clientPriority: Priority | undefined;
  #closed = false;

  constructor(socket: Socket, router: ChildRouter, services: SessionServices) {
    this.#socket = socket;
    this.#router = router;
    this.#services = services;
    this.#splitter = new LineSplitter(
      {
        onFrame: (frame) => this.#onFrame(frame),
        onOversize: (limitBytes) =>
          this.#sendError(null, ErrorCode.FrameTooLarge, `Frame larger than ${limitBytes} bytes`, { limitBytes }),
      },
      services.maxFrameBytes,
    );
    router.sessions.add(this);
    socket.on('data', (chunk: Buffer) => this.#splitter.push(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
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

  #sendError(id: JsonRpcId | null, code: number, message: string, data?: unknown): void {
    const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
    this.sendMessage({ jsonrpc: '2.0', id, error });
  }

  #sendOutcome(id: JsonRpcId, outcome: RouteOutcome): void {
    if (outcome.kind === 'result')
      this.#write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${outcome.json}}\n`);
    else this.sendMessage({ jsonrpc: '2.0', id, error: outcome.error });
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
    const parsed = parseFrame(frame);
    const rejection = rejectionFor(parsed);
    if (rejection) return this.sendMessage(rejection);
    switch (parsed.kind) {
      case 'request':
        return this.#onRequest(parsed.message.id, parsed.message.method, parsed.message.params);
      case 'notification':
        return this.#onNotification(parsed.message.method, parsed.message.params);
      case 'response':
        return this.#router.answerUpstream(this, parsed.message as unknown as Record<string, unknown>);
    }
  }

  #onRequest(id: JsonRpcId, method: string, params: Record<string, unknown> | undefined): void {
    switch (method) {
      case 'initialize':
        return void this.#initialize(id, params);
      case 'ping':
        return this.sendMessage({ jsonrpc: '2.0', id, result: {} });
      case 'logging/setLevel': {
        const index = LEVELS.indexOf(String(params?.level));
        if (index === -1)
          return this.#sendError(id, ErrorCode.InvalidParams, `Unknown log level ${String(params?.level)}`);
        this.minLogLevelIndex = index;
        this.#router.updateLogLevel();
        return this.sendMessage({ jsonrpc: '2.0', id, result: {} });
      }
      case 'resources/subscribe':
        if (typeof params?.uri === 'string') this.subscriptions.add(params.uri);
        break;
      case 'resources/unsubscribe':
        if (typeof params?.uri === 'string') {
          this.subscriptions.delete(params.uri);
          if (this.#router.hasOtherSubscriber(params.uri, this))
            return this.sendMessage({ jsonrpc: '2.0', id, result: {} });
        }
        break;
    }
    this.#dispatch(id, method, params);
  }

  async #initialize(id: JsonRpcId, params: Record<string, unknown> | undefined): Promise<void> {
    this.#capabilities = (params?.capabilities as Record<string, unknown> | undefined) ?? {};
    const clientName = (params?.clientInfo as { name?: unknown } | undefined)?.name;
    if (typeof clientName === 'string') this.#clientPriority = this.#services.priorities.clients[clientName];
    const link = this.#router.link;
    if (link.state !== 'RUNNING' && !(await this.#services.waitForRunning(AbortSignal.timeout(INITIALIZE_WAIT_MS)))) {
      return this.#sendError(id, ErrorCode.ChildUnavailable, `Child "${link.name}" is ${link.state}`, {
        child: link.name,
        state: link.state,
      });
    }
    const childResult = link.initializeResult ?? {};
    const requested = params?.protocolVersion;
    const protocolVersion =
      typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
        ? requested
        : childResult.protocolVersion;
    this.sendMessage({ jsonrpc: '2.0', id, result: { ...childResult, protocolVersion } });
  }

  #dispatch(id: JsonRpcId, method: string, params: Record<string, unknown> | undefined): void {
    if (this.#inFlight.has(id)) {
      return this.#sendError(id, ErrorCode.InvalidRequest, `Request id ${JSON.stringify(id)} is already in flight`);
    }
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
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
    const load = (signal: AbortSignal) => {
      const forward = () => {
        const answer = this.#router.forward(this, method, params, signal);
        return budget === undefined
          ? answer
          : answer.then(async (o) =>
              o.kind === 'result' ? { ...o, json: await compressResultJson(o.json, budget) } : o,
            );
      };
      return this.#services.cache ? this.#services.cache.fetch(child, method, params, forward) : forward();
    };
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
        if (this.#inFlight.get(id) !== controller) return;
        this.#inFlight.delete(id);
        this.#sendOutcome(id, outcome);
      },
      (error: { code?: string; retryAfterMs?: number; priority?: string; timeoutMs?: number; message?: string }) => {
        if (this.#inFlight.get(id) !== controller) return;
        this.#inFlight.delete(id);
        if (error.code === 'SHED') {
          this.#sendError(id, ErrorCode.Overloaded, 'Overloaded: request shed; retry later', {
            retryAfterMs: error.retryAfterMs,
            priority: error.priority,
          });
        } else if (error.code === 'TIMEOUT') {
          this.#sendError(id, ErrorCode.RequestTimeout, `Request timed out after ${error.timeoutMs} ms`, {
            timeoutMs: error.timeoutMs,
          });
        } else {
          this.#sendError(id, ErrorCode.InternalError, `Internal error: ${error.message ?? String(error)}`);
        }
      },
    );
  }

  #onNotification(method: string, params: Record<string, unknown> | undefined): void {
    if (method === 'notifications/cancelled') {
      const requestId = params?.requestId as JsonRpcId | undefined;
      const controller = requestId === undefined ? undefined : this.#inFlight.get(requestId);
      if (controller && requestId !== undefined) {
        this.#inFlight.delete(requestId);
        controller.abort(new Error('cancelled by the client'));
      }
      return;
    }
    this.#router.forwardNotification(method, params);
  }

  /** Closes the connection; in-flight requests are cancelled at the child. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const controller of this.#inFlight.values()) controller.abort(new Error('client disconnected'));
    this.#inFlight.clear();
    this.#router.detach(this);
    this.#socket.destroy();
  }
}

import { ErrorCode } from '../../protocol/index.js';
import type { Endpoint } from '../endpoint.js';
import { type ClientTransport, LOCAL_CREDENTIAL, type TransportHandlers } from '../transport.js';
import {
  CLIENT_CAPABILITIES_KEY,
  CLIENT_INFO_KEY,
  discover,
  envelopeVersion,
  frameLeg,
  MODERN_REVISION,
  PROTOCOL_VERSION_KEY,
  SERVED_REVISIONS,
  StatelessExchange,
} from './stateless-http.js';

/** What the bridge needs of its endpoint's server: the endpoint, and a way to serve one more client. */
export interface BridgedServer {
  readonly endpoint: Endpoint;
  /** How long a request may wait for its client's input (ms). */
  readonly inputTimeoutMs: number;
  accept(transport: ClientTransport): unknown;
}

/**
 * A connection that speaks both eras (`omnimind connect`, a socket client): a frame whose `_meta` claims the
 * 2026-07-28 revision is served on its own, as an HTTP request of that revision is (a request-long session, a
 * child's questions as `input_required`); every other frame goes to the connection's own session untouched.
 */
export class EraBridge implements ClientTransport {
  readonly #inner: ClientTransport;
  readonly #server: BridgedServer;
  /** 2026-07-28 requests in flight on this connection by id text, and those waiting for input by `requestState`. */
  readonly #running = new Map<string, StatelessExchange>();
  readonly #waiting = new Map<string, StatelessExchange>();

  constructor(inner: ClientTransport, server: BridgedServer) {
    this.#inner = inner;
    this.#server = server;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  start(handlers: TransportHandlers): void {
    this.#inner.start({
      // Only a frame that names the envelope key can be one; the common frame pays one substring search.
      onFrame: (frame) =>
        frame.includes(PROTOCOL_VERSION_KEY) ? this.#onMaybeModern(frame, handlers) : handlers.onFrame(frame),
      onClose: () => {
        for (const exchange of [...this.#running.values(), ...this.#waiting.values()]) exchange.close();
        handlers.onClose();
      },
    });
  }

  send(frame: string): void {
    this.#inner.send(frame);
  }

  close(flush?: boolean): void {
    this.#inner.close(flush);
  }

  #onMaybeModern(frame: string, handlers: TransportHandlers): void {
    let body: { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    try {
      body = JSON.parse(frame);
    } catch {
      return handlers.onFrame(frame);
    }
    const version = envelopeVersion(body);
    if (version === undefined || typeof body.method !== 'string') return handlers.onFrame(frame);
    const { method, params } = body;
    if (body.id === undefined) {
      // A 2026-07-28 client cancels a request by its id; nothing else it notifies needs an answer.
      if (method === 'notifications/cancelled') this.#running.get(JSON.stringify(params?.requestId))?.close();
      return;
    }
    const idText = JSON.stringify(body.id);
    const leg = frameLeg(idText, (text) => this.#inner.send(text));
    if (version !== MODERN_REVISION) {
      const error = { code: ErrorCode.InvalidParams, message: `Unsupported protocol version "${version}"` };
      return leg.end({
        jsonrpc: '2.0',
        id: body.id,
        error: { ...error, data: { supported: SERVED_REVISIONS, requested: version } },
      });
    }
    if (method === 'server/discover') {
      void discover(this.#server.endpoint).then((answer) => leg.end({ jsonrpc: '2.0', id: body.id, ...answer }));
      return;
    }
    if (method === 'ping') return leg.end({ jsonrpc: '2.0', id: body.id, result: { resultType: 'complete' } });
    const requestState = params?.requestState;
    if (typeof requestState === 'string') {
      const waiting = this.#waiting.get(requestState);
      if (waiting === undefined) {
        const error = {
          code: ErrorCode.InvalidParams,
          message: 'Invalid params: requestState is unknown or expired; send the request anew',
        };
        return leg.end({ jsonrpc: '2.0', id: body.id, error });
      }
      this.#waiting.delete(requestState);
      this.#running.set(idText, waiting);
      return waiting.resume(leg, (params?.inputResponses ?? {}) as Record<string, unknown>);
    }
    const meta = (params?._meta ?? {}) as Record<string, unknown>;
    const exchange = new StatelessExchange({
      kind: this.#inner.kind,
      credential: this.#inner.credential ?? LOCAL_CREDENTIAL,
      endpointName: this.#server.endpoint.name,
      method,
      inputTimeoutMs: this.#server.inputTimeoutMs,
      onAwaitInput: (e) => {
        for (const [id, running] of this.#running) if (running === e) this.#running.delete(id);
        this.#waiting.set(e.requestState as string, e);
      },
      onEnd: (e) => {
        for (const [id, running] of this.#running) if (running === e) this.#running.delete(id);
        if (e.requestState !== undefined) this.#waiting.delete(e.requestState);
      },
    });
    this.#running.set(idText, exchange);
    this.#server.accept(exchange);
    const capabilities = meta[CLIENT_CAPABILITIES_KEY];
    exchange.begin(
      leg,
      capabilities !== null && typeof capabilities === 'object' ? (capabilities as Record<string, unknown>) : {},
      meta[CLIENT_INFO_KEY],
      frame,
    );
  }
}

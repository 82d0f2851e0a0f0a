import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { HttpConfig } from '../config/index.js';
import { type ConnectionBudget, type EndpointServer, RETRY_CONNECT_MS } from '../gateway/index.js';
import {
  CLIENT_CAPABILITIES_KEY,
  CLIENT_INFO_KEY,
  discover,
  envelopeVersion,
  httpLeg,
  type ListenFilter,
  ListenHttpExchange,
  MODERN_REVISION,
  SERVED_REVISIONS,
  StatelessExchange,
} from '../gateway/transports/stateless-http.js';
import { type HttpPost, StreamableHttpTransport } from '../gateway/transports/streamable-http.js';
import type { Logger } from '../logs/index.js';
import { classifyMessage, ErrorCode, OmnimindError, readIdText } from '../protocol/index.js';
import type { Authenticator, Credential } from './auth.js';
import {
  acceptedForms,
  hostAllowed,
  isJsonContentType,
  type ListenAddress,
  originAllowed,
  parseListen,
} from './checks.js';
import { Dashboard, type FleetView } from './dashboard.js';
import { headerMismatch } from './modern.js';

/** The revisions of the Streamable HTTP transport served with sessions. */
const SESSION_REVISIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];
/** The only revision that allows JSON-RPC batches. */
const BATCH_REVISION = '2025-03-26';
const DEFAULT_IDLE_SECONDS = 1800;
const DEFAULT_MAX_SESSIONS = 1000;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often idle SSE streams get a comment, so that proxies keep them open. */
const KEEP_ALIVE_INTERVAL_MS = 20_000;
const METADATA_PATH = '/.well-known/oauth-protected-resource';
/** On stop, requests being answered may finish for this long (a load balancer sends new ones elsewhere meanwhile). */
const DRAIN_MS = 5_000;
/** The longest drain chosen from a health checker's interval when `http.drainSeconds` is not set. */
const AUTO_DRAIN_MAX_MS = 10_000;
/** `/readyz` asked at most this far apart looks like a health checker. */
const HEALTH_CHECK_MAX_INTERVAL_MS = 30_000;
/** The `/readyz` times kept to find a health checker's interval. */
const READYZ_REMEMBERED = 256;
/** The profile served on `/mcp` itself. */
const DEFAULT_ENDPOINT = 'omnimind';
/** Header values whose checks are remembered (Host, Accept): clients send the same few again and again. */
const REMEMBERED_HEADERS = 64;

/** Options of an HttpFront. */
export interface HttpFrontOptions {
  config: HttpConfig & { listen: string };
  /** The largest request body, in bytes (`gateway.maxFrameBytes`). */
  maxFrameBytes: number;
  /** The endpoint of a name (a child or a profile), or undefined. */
  endpoint(name: string): EndpointServer | undefined;
  authenticate: Authenticator;
  /** The supervisor's bound on clients (`gateway.maxConnections`): each session and listen stream takes a place. */
  budget?: ConnectionBudget;
  /** Whether a credential may still hold its sessions (checked at each sweep: a revoked token's streams close). */
  credentialValid?: (credential: string) => boolean;
  /** The fleet behind `/healthz`, `/readyz`, `/metrics` and the dashboard (without it those paths are 404). */
  fleet?: FleetView;
  logger: Logger;
}

/** The sessions of the HTTP front, for `status`. */
export interface HttpReport {
  listen: string;
  url: string;
  auth: string;
  sessions: number;
  /** Sessions by negotiated protocol revision, and by credential. */
  byRevision: Record<string, number>;
  byCredential: Record<string, number>;
  /** 2026-07-28 requests (no session) served so far, and those now waiting for the client's input. */
  statelessRequests: number;
  awaitingInput: number;
  /** Open `subscriptions/listen` streams. */
  listening: number;
}

/** The URL of `/mcp` on the listener `config` describes. */
export function mcpUrl(config: HttpConfig & { listen: string }): string {
  const { host, port } = parseListen(config.listen);
  return `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`;
}

/** A rejected request: status, JSON-RPC error and extra headers. */
class Refusal extends Error {
  readonly status: number;
  readonly code: number;
  readonly headers: Record<string, string>;
  readonly data: unknown;

  constructor(status: number, code: number, message: string, headers: Record<string, string> = {}, data?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.data = data;
  }
}

/** Writes a refusal as a JSON-RPC error with id null (or the request's id). */
function refuse(response: ServerResponse, refusal: Refusal, idText = 'null'): void {
  if (response.headersSent) return void response.destroy();
  const error =
    refusal.data === undefined
      ? { code: refusal.code, message: refusal.message }
      : { code: refusal.code, message: refusal.message, data: refusal.data };
  response
    .writeHead(refusal.status, { ...refusal.headers, 'Content-Type': 'application/json' })
    .end(`{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify(error)}}`);
}

/** Reads a request body of at most `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () =>
    new Refusal(
      413,
      ErrorCode.FrameTooLarge,
      `Request body larger than ${limit} bytes (gateway.maxFrameBytes)`,
      { Connection: 'close' },
      {
        limitBytes: limit,
      },
    );
  if (Number(request.headers['content-length']) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        request.removeAllListeners('data');
        request.pause();
        return reject(tooLarge());
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * The Streamable HTTP front: `POST|GET|DELETE /mcp` (the `omnimind` profile) and `/mcp/<endpoint>`, each session one
 * client of that endpoint, behind Host and Origin checks and bearer authentication.
 */
export class HttpFront {
  readonly #options: HttpFrontOptions;
  readonly #address: ListenAddress;
  readonly #server: Server;
  readonly #scheme: string;
  readonly #dashboard: Dashboard | undefined;
  readonly #sessions = new Map<string, StreamableHttpTransport>();
  readonly #perCredential = new Map<string, number>();
  /** 2026-07-28 requests waiting for the client's retry, by `requestState`. */
  readonly #awaitingInput = new Map<string, StatelessExchange>();
  /** Open 2026-07-28 `subscriptions/listen` streams. */
  readonly #listeners = new Set<ListenHttpExchange>();
  /** POST requests not answered yet, and what to call when the last one is (while closing). */
  #posts = 0;
  /** Set when close() begins: `/readyz` fails while requests are still served for `http.drainSeconds`. */
  #draining = false;
  /** When `/readyz` was asked in the last `HEALTH_CHECK_MAX_INTERVAL_MS` (at most `READYZ_REMEMBERED` times). */
  readonly #readyzAskedAt: number[] = [];
  #onDrained: (() => void) | undefined;
  #statelessRequests = 0;
  /** Host headers found to name this listener, and the answer forms of Accept headers seen. */
  readonly #goodHosts = new Set<string>();
  readonly #forms = new Map<string, { json: boolean; sse: boolean }>();
  readonly #idleMs: number;
  readonly #maxSessions: number;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: HttpFrontOptions) {
    this.#options = options;
    const { config } = options;
    this.#address = parseListen(config.listen);
    this.#idleMs = (config.sessionIdleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
    this.#maxSessions = config.maxSessionsPerCredential ?? DEFAULT_MAX_SESSIONS;
    const requestTimeout = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const serverOptions = {
      headersTimeout: Math.min(config.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout),
      requestTimeout,
      keepAliveTimeout: config.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: 1_000,
    };
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.#handle(request, response);
    if (config.tls) {
      this.#scheme = 'https';
      this.#server = createHttpsServer(
        { ...serverOptions, cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
        handler,
      );
    } else {
      this.#scheme = 'http';
      this.#server = createServer(serverOptions, handler);
    }
    this.#server.on('clientError', (_error, socket) => socket.destroy());
    this.#dashboard =
      options.fleet === undefined
        ? undefined
        : new Dashboard({
            fleet: options.fleet,
            authenticate: options.authenticate,
            metricsWithoutAuth: config.metricsWithoutAuth === true,
            scheme: this.#scheme,
            challenge: (request, path) => this.#challenge(request, path),
            draining: () => this.#draining,
          });
  }

  /** The URL of `/mcp` on this listener. */
  get url(): string {
    return mcpUrl(this.#options.config);
  }

  /** Binds the listener and starts expiring idle sessions. */
  async listen(): Promise<void> {
    const { host, port } = this.#address;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (error) =>
        reject(new OmnimindError('HTTP_LISTEN', `Cannot listen on ${this.#options.config.listen}: ${error.message}`)),
      );
      this.#server.listen(port, host, () => resolve());
    });
    const sweep = Math.max(50, Math.min(this.#idleMs / 4, 5_000));
    this.#timers = [
      setInterval(() => this.#expire(), sweep).unref(),
      setInterval(() => {
        for (const session of this.#sessions.values()) session.keepAlive();
        for (const listener of this.#listeners) listener.keepAlive();
      }, KEEP_ALIVE_INTERVAL_MS).unref(),
    ];
    this.#options.logger.info(`HTTP front listening on ${this.url} (auth: ${this.#options.config.auth ?? 'token'})`);
  }

  /**
   * Answers `/readyz` with 503 while serving as before for `http.drainSeconds` (a load balancer's health check takes
   * the host out meanwhile, so no request is sent on a connection about to close), then stops listening, lets the POST
   * requests being answered finish (at most `DRAIN_MS`), and closes every session and connection.
   */
  async close(): Promise<void> {
    this.#draining = true;
    const configured = this.#options.config.drainSeconds;
    const drainMs = configured === undefined ? this.#healthCheckDrainMs() : configured * 1000;
    if (drainMs > 0) {
      this.#options.logger.info(`HTTP front draining for ${drainMs / 1000} s: /readyz answers 503`);
      await new Promise((resolve) => setTimeout(resolve, drainMs));
    }
    for (const timer of this.#timers) clearInterval(timer);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    // `subscriptions/listen` streams never end on their own: they close now, and the drain waits for calls only.
    for (const listener of [...this.#listeners]) listener.close();
    if (this.#posts > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_MS);
        this.#onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const session of [...this.#sessions.values()]) session.close();
    for (const exchange of [...this.#awaitingInput.values()]) exchange.close();
    this.#server.closeAllConnections();
    await closed;
  }

  /**
   * The drain when `http.drainSeconds` is not set: none, unless something checks `/readyz` (a load balancer); then
   * three of its check intervals, for it to see the 503 and take the host out, and at most `AUTO_DRAIN_MAX_MS`. The
   * interval is the longest gap between recent checks, so a fast poller beside the balancer does not shorten it.
   */
  #healthCheckDrainMs(): number {
    this.#forgetOldChecks(Date.now());
    const checks = this.#readyzAskedAt;
    let interval = 0;
    for (let i = 1; i < checks.length; i++) interval = Math.max(interval, checks[i]! - checks[i - 1]!);
    return Math.min(3 * interval, AUTO_DRAIN_MAX_MS);
  }

  /** Drops `/readyz` times older than a health checker's longest interval, keeping at most `READYZ_REMEMBERED`. */
  #forgetOldChecks(now: number): void {
    const checks = this.#readyzAskedAt;
    let old = 0;
    while (old < checks.length && now - checks[old]! > HEALTH_CHECK_MAX_INTERVAL_MS) old++;
    checks.splice(0, Math.max(old, checks.length - READYZ_REMEMBERED));
  }

  /** The listener and its sessions, for `status`. */
  report(): HttpReport {
    const byRevision: Record<string, number> = {};
    const byCredential: Record<string, number> = {};
    for (const session of this.#sessions.values()) {
      byRevision[session.protocolVersion] = (byRevision[session.protocolVersion] ?? 0) + 1;
      byCredential[session.credential] = (byCredential[session.credential] ?? 0) + 1;
    }
    return {
      listen: this.#options.config.listen,
      url: this.url,
      auth: this.#options.config.auth ?? 'token',
      sessions: this.#sessions.size,
      byRevision,
      byCredential,
      statelessRequests: this.#statelessRequests,
      awaitingInput: this.#awaitingInput.size,
      listening: this.#listeners.size,
    };
  }

  #expire(): void {
    const cutoff = Date.now() - this.#idleMs;
    const check = this.#options.credentialValid;
    const valid = new Map<string, boolean>();
    for (const session of this.#sessions.values()) {
      if (session.lastActive < cutoff) session.close();
      else if (check !== undefined) {
        if (!valid.has(session.credential)) valid.set(session.credential, check(session.credential));
        if (!valid.get(session.credential)) session.close();
      }
    }
  }

  #forget(session: StreamableHttpTransport): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    const count = (this.#perCredential.get(session.credential) ?? 1) - 1;
    if (count === 0) this.#perCredential.delete(session.credential);
    else this.#perCredential.set(session.credential, count);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'POST') {
      this.#posts++;
      response.once('close', () => {
        if (--this.#posts === 0) this.#onDrained?.();
      });
    }
    try {
      await this.#route(request, response);
    } catch (error) {
      if (error instanceof Refusal) return refuse(response, error);
      this.#options.logger.warn(`HTTP front: ${(error as Error).message}`);
      refuse(response, new Refusal(500, ErrorCode.InternalError, `Internal error: ${(error as Error).message}`));
    }
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { config } = this.#options;
    const host = request.headers.host;
    if (host === undefined || !this.#goodHosts.has(host)) {
      if (!hostAllowed(host, this.#address, config.allowedHosts ?? [])) {
        throw new Refusal(
          403,
          ErrorCode.InvalidRequest,
          `Forbidden: Host "${host ?? ''}" is not this server's (http.allowedHosts)`,
        );
      }
      if (this.#goodHosts.size < REMEMBERED_HEADERS) this.#goodHosts.add(host as string);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !originAllowed(origin, `${this.#scheme}://${host}`, config.allowedOrigins ?? [])) {
      throw new Refusal(
        403,
        ErrorCode.InvalidRequest,
        `Forbidden: Origin "${origin}" is not allowed (http.allowedOrigins)`,
      );
    }
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === METADATA_PATH || path.startsWith(`${METADATA_PATH}/`)) return this.#metadata(request, response, path);
    if (path === '/readyz') {
      const now = Date.now();
      this.#readyzAskedAt.push(now);
      this.#forgetOldChecks(now);
    }
    if (this.#dashboard?.serves(path)) return await this.#dashboard.handle(request, response, path);
    const match = /^\/mcp(?:\/([^/]+))?\/?$/.exec(path);
    if (!match)
      throw new Refusal(
        404,
        ErrorCode.InvalidRequest,
        `Not found: ${path} (MCP is served on /mcp and /mcp/<endpoint>)`,
      );
    const name = match[1] === undefined ? DEFAULT_ENDPOINT : decodeURIComponent(match[1]);
    const credential = await this.#options.authenticate(request.headers.authorization);
    if (credential === undefined) {
      throw new Refusal(
        401,
        ErrorCode.InvalidRequest,
        request.headers.authorization === undefined
          ? 'Unauthorized: send Authorization: Bearer <token> (omnimind token create)'
          : 'Unauthorized: the token is unknown, revoked or expired',
        { 'WWW-Authenticate': this.#challenge(request, path) },
      );
    }
    if (credential.endpoints !== undefined && !credential.endpoints.includes(name)) {
      throw new Refusal(
        403,
        ErrorCode.InvalidRequest,
        `Forbidden: this credential may not use "${name}" (it may use ${credential.endpoints.join(', ')})`,
      );
    }
    const endpoint = this.#options.endpoint(name);
    if (endpoint === undefined) throw new Refusal(404, ErrorCode.InvalidRequest, `Not found: no endpoint "${name}"`);
    switch (request.method) {
      case 'POST':
        return await this.#post(request, response, endpoint, name, credential);
      case 'GET':
        return this.#get(request, response, name, credential);
      case 'DELETE': {
        this.#session(request, name, credential).close();
        return void response.writeHead(200).end();
      }
      default:
        throw new Refusal(405, ErrorCode.InvalidRequest, `Method ${request.method} not allowed on ${path}`, {
          Allow: 'GET, POST, DELETE',
        });
    }
  }

  /** The answer forms an Accept header allows, remembered for the few headers clients send. */
  #acceptedForms(accept: string | undefined): { json: boolean; sse: boolean } {
    const key = accept ?? '';
    let forms = this.#forms.get(key);
    if (forms === undefined) {
      forms = acceptedForms(accept);
      if (this.#forms.size < REMEMBERED_HEADERS) this.#forms.set(key, forms);
    }
    return forms;
  }

  /** The `WWW-Authenticate` header of a 401 for a path: where its RFC 9728 metadata is. */
  #challenge(request: IncomingMessage, path: string): string {
    return `Bearer resource_metadata="${this.#scheme}://${request.headers.host}${METADATA_PATH}${path}"`;
  }

  /** The request's session: 400 without the header, 404 when unknown, expired or someone else's. */
  #session(request: IncomingMessage, name: string, credential: Credential): StreamableHttpTransport {
    const id = request.headers['mcp-session-id'];
    if (typeof id !== 'string') {
      throw new Refusal(
        400,
        ErrorCode.InvalidRequest,
        'Bad Request: Mcp-Session-Id header is required (initialize first)',
      );
    }
    const session = this.#sessions.get(id);
    if (session === undefined || session.credential !== credential.id || session.endpointName !== name) {
      throw new Refusal(404, ErrorCode.InvalidRequest, 'Session not found: it was closed or expired; initialize again');
    }
    this.#checkRevision(request);
    return session;
  }

  #checkRevision(request: IncomingMessage): void {
    const revision = request.headers['mcp-protocol-version'];
    if (revision !== undefined && !SESSION_REVISIONS.includes(String(revision))) {
      throw new Refusal(
        400,
        ErrorCode.InvalidRequest,
        `Bad Request: unsupported MCP-Protocol-Version "${String(revision)}" (supported: ${SESSION_REVISIONS.join(', ')})`,
      );
    }
  }

  async #post(
    request: IncomingMessage,
    response: ServerResponse,
    endpoint: EndpointServer,
    name: string,
    credential: Credential,
  ): Promise<void> {
    if (!isJsonContentType(request.headers['content-type'])) {
      throw new Refusal(415, ErrorCode.InvalidRequest, 'Unsupported Media Type: Content-Type must be application/json');
    }
    const forms = this.#acceptedForms(request.headers.accept);
    if (!forms.json && !forms.sse) {
      throw new Refusal(
        406,
        ErrorCode.InvalidRequest,
        'Not Acceptable: Accept must list application/json and text/event-stream',
      );
    }
    const text = await readBody(request, this.#options.maxFrameBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new Refusal(400, ErrorCode.ParseError, `Parse error: ${(error as Error).message}`);
    }
    const sessionId = request.headers['mcp-session-id'];
    const version = envelopeVersion(body);
    if (
      sessionId === undefined &&
      (version !== undefined || request.headers['mcp-protocol-version'] === MODERN_REVISION)
    ) {
      return await this.#modern(request, response, endpoint, name, credential, body, text, forms.sse);
    }
    const initialize = !Array.isArray(body) && (body as { method?: unknown } | null)?.method === 'initialize';
    const session = sessionId === undefined && initialize ? undefined : this.#session(request, name, credential);
    if (initialize && session !== undefined) {
      throw new Refusal(400, ErrorCode.InvalidRequest, 'Bad Request: this session is already initialized');
    }
    if (
      Array.isArray(body) &&
      (session === undefined || session.protocolVersion !== BATCH_REVISION || body.length === 0)
    ) {
      throw new Refusal(
        400,
        ErrorCode.InvalidRequest,
        `Invalid request: JSON-RPC batches are only allowed on ${BATCH_REVISION} sessions, and never empty`,
      );
    }
    const post: HttpPost = {
      messages: toMessages(body, text),
      batch: Array.isArray(body),
      sse: forms.sse,
      json: forms.json,
      traceparent: traceparentOf(request),
    };
    if (session !== undefined) return session.post(post, response);
    this.#checkRevision(request);
    const count = this.#perCredential.get(credential.id) ?? 0;
    if (count >= this.#maxSessions) {
      throw new Refusal(
        429,
        ErrorCode.InvalidRequest,
        `Too many sessions for this credential (http.maxSessionsPerCredential = ${this.#maxSessions}); end one with DELETE`,
      );
    }
    const release = this.#takePlace();
    // An SSE response may fall behind by two whole frames before its client is deemed not to read it.
    const created = new StreamableHttpTransport(randomUUID(), {
      credential: credential.id,
      endpointName: name,
      maxUnsentBytes: 2 * this.#options.maxFrameBytes,
      onEnd: (t) => {
        release();
        this.#forget(t);
      },
      onOverflow: (t) =>
        this.#options.logger.info(`HTTP session ${t.id} (${t.credential}): closed a stream its client does not read`),
    });
    this.#sessions.set(created.id, created);
    this.#perCredential.set(credential.id, count + 1);
    endpoint.accept(created);
    created.post(post, response);
  }

  /** A place in `gateway.maxConnections` for a new session or stream, or a 503 refusal when there is none. */
  #takePlace(): () => void {
    const taken = this.#options.budget?.takeSession() ?? (() => {});
    if (typeof taken === 'function') return taken;
    throw new Refusal(
      503,
      ErrorCode.Overloaded,
      `${taken}; end a session with DELETE or retry later`,
      { 'Retry-After': String(Math.ceil(RETRY_CONNECT_MS / 1000)) },
      { retryAfterMs: RETRY_CONNECT_MS },
    );
  }

  /** A 2026-07-28 request: no session; headers checked against the body; input asked for with `input_required`. */
  async #modern(
    request: IncomingMessage,
    response: ServerResponse,
    endpoint: EndpointServer,
    name: string,
    credential: Credential,
    body: unknown,
    text: string,
    sse: boolean,
  ): Promise<void> {
    const version = envelopeVersion(body);
    if (version !== MODERN_REVISION) {
      throw new Refusal(
        400,
        ErrorCode.InvalidParams,
        `Unsupported protocol version "${version ?? ''}"`,
        {},
        {
          supported: SERVED_REVISIONS,
          requested: version ?? null,
        },
      );
    }
    const [message] = toMessages(body, text);
    const { method, params } = (body as { method?: string; params?: Record<string, unknown> }) ?? {};
    if (message?.idText === undefined || typeof method !== 'string') return void response.writeHead(202).end();
    const mismatch = headerMismatch(request, version, method, params);
    if (mismatch !== undefined) throw new Refusal(400, ErrorCode.HeaderMismatch, `Header mismatch: ${mismatch}`);
    this.#statelessRequests++;
    const meta = (params?._meta ?? {}) as Record<string, unknown>;
    if (method === 'subscriptions/listen') {
      if (!sse)
        throw new Refusal(
          406,
          ErrorCode.InvalidRequest,
          'Not Acceptable: subscriptions/listen needs Accept: text/event-stream',
        );
      const release = this.#takePlace();
      const listener = new ListenHttpExchange(
        response,
        JSON.parse(message.idText),
        (params?.notifications ?? {}) as ListenFilter,
        () => {
          release();
          this.#listeners.delete(listener);
        },
      );
      this.#listeners.add(listener);
      endpoint.accept(listener);
      return listener.begin(meta[CLIENT_INFO_KEY]);
    }
    const leg = httpLeg(message.idText, response, sse);
    const id = JSON.parse(message.idText);
    if (method === 'server/discover') return leg.end({ jsonrpc: '2.0', id, ...(await discover(endpoint.endpoint)) });
    if (method === 'ping') return leg.end({ jsonrpc: '2.0', id, result: { resultType: 'complete' } });
    const requestState = params?.requestState;
    if (typeof requestState === 'string') {
      const waiting = this.#awaitingInput.get(requestState);
      if (waiting === undefined || waiting.credential !== credential.id || waiting.endpointName !== name) {
        throw new Refusal(
          400,
          ErrorCode.InvalidParams,
          'Invalid params: requestState is unknown or expired; send the request anew',
        );
      }
      this.#awaitingInput.delete(requestState);
      return waiting.resume(leg, (params?.inputResponses ?? {}) as Record<string, unknown>);
    }
    const exchange = new StatelessExchange({
      kind: 'http',
      credential: credential.id,
      endpointName: name,
      method,
      inputTimeoutMs: endpoint.inputTimeoutMs,
      onAwaitInput: (e) => this.#awaitInput(e),
      onEnd: (e) => {
        if (e.requestState !== undefined) this.#awaitingInput.delete(e.requestState);
      },
    });
    endpoint.accept(exchange);
    const capabilities = meta[CLIENT_CAPABILITIES_KEY];
    exchange.begin(
      leg,
      capabilities !== null && typeof capabilities === 'object' ? (capabilities as Record<string, unknown>) : {},
      meta[CLIENT_INFO_KEY],
      text,
      { traceparent: traceparentOf(request) },
    );
  }

  /**
   * Keeps an exchange that asked its client for input until the retry; a credential may hold as many of these as
   * sessions (`http.maxSessionsPerCredential`), beyond which the new one is cancelled (its retry gets 400).
   */
  #awaitInput(exchange: StatelessExchange): void {
    let held = 0;
    for (const waiting of this.#awaitingInput.values()) if (waiting.credential === exchange.credential) held++;
    if (held >= this.#maxSessions) {
      exchange.requestState = undefined;
      return exchange.close();
    }
    this.#awaitingInput.set(exchange.requestState as string, exchange);
  }

  #get(request: IncomingMessage, response: ServerResponse, name: string, credential: Credential): void {
    if (!this.#acceptedForms(request.headers.accept).sse) {
      throw new Refusal(406, ErrorCode.InvalidRequest, 'Not Acceptable: Accept must list text/event-stream');
    }
    const session = this.#session(request, name, credential);
    const lastEventId = request.headers['last-event-id'];
    const opened = session.listen(response, typeof lastEventId === 'string' ? lastEventId : undefined);
    if (!opened)
      throw new Refusal(409, ErrorCode.InvalidRequest, 'Conflict: this session already has a GET stream open');
  }

  /** RFC 9728 metadata of the protected resource a path names. */
  #metadata(request: IncomingMessage, response: ServerResponse, path: string): void {
    const { config } = this.#options;
    const resourcePath = path.slice(METADATA_PATH.length) || '/mcp';
    const body: Record<string, unknown> = {
      resource: `${this.#scheme}://${request.headers.host}${resourcePath}`,
      bearer_methods_supported: ['header'],
      resource_name: 'omnimind',
    };
    if (config.auth === 'oauth' && config.oauth !== undefined) {
      body.authorization_servers = [config.oauth.issuer];
      body.scopes_supported = Object.keys(config.oauth.scopes ?? {});
    }
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }
}

/** The request's W3C `traceparent` header, if it sent one. */
function traceparentOf(request: IncomingMessage): string | undefined {
  const header = request.headers.traceparent;
  return typeof header === 'string' ? header : undefined;
}

/** The messages of a POST body, checked: an invalid one refuses the whole POST (400, -32600) before any is used. */
function toMessages(body: unknown, text: string): HttpPost['messages'] {
  const values = Array.isArray(body) ? body : [body];
  return values.map((value) => {
    const classified = classifyMessage(value);
    if (classified.kind === 'invalid') {
      throw new Refusal(400, ErrorCode.InvalidRequest, `Invalid request: ${classified.reason}`);
    }
    const messageText = Array.isArray(body) ? JSON.stringify(value) : text;
    if (classified.kind !== 'request') return { text: messageText };
    const { id, method, params } = classified.message;
    const idText =
      typeof id === 'number' && !Number.isSafeInteger(id)
        ? (readIdText(messageText) ?? String(id))
        : JSON.stringify(id);
    const token = (params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
    return {
      text: messageText,
      idText,
      method,
      progressToken: token === undefined ? undefined : JSON.stringify(token),
    };
  });
}

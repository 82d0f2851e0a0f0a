import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE } from '../metrics/index.js';
import { OmnimindError } from '../protocol/index.js';
import { type Authenticator, type Credential, canObserve } from './auth.js';
import type { HistoryPoint } from './dashboard-history.js';
import { dashboardPage } from './dashboard-page.js';

/** What a child's button asks of it. */
export type ChildAction = 'start' | 'stop' | 'restart';

/** The supervisor as the observability paths see it. */
export interface FleetView {
  /** The `status --json` document (sent as it is). */
  status(): object;
  /** The last 15 minutes, one point per 5 s. */
  history(): { intervalMs: number; points: HistoryPoint[] };
  /** The eager children that are not RUNNING (none: ready). */
  unready(): Array<{ name: string; state: string }>;
  /** The Prometheus exposition; METRICS_DISABLED when metrics are off. */
  renderMetrics(): Promise<string>;
  /** The last lines of a child's log; undefined for an unknown child. */
  logTail(child: string, lines: number): string[] | undefined;
  /** Starts, stops or restarts one child (UNKNOWN_CHILD for a name that is none). */
  control(action: ChildAction, child: string): Promise<void>;
}

/** Options of a Dashboard. */
export interface DashboardOptions {
  fleet: FleetView;
  authenticate: Authenticator;
  /** `http.metricsWithoutAuth`: `GET /metrics` without a token. */
  metricsWithoutAuth: boolean;
  /** `http` or `https`. */
  scheme: string;
  /** The `WWW-Authenticate` header of a 401 for a path. */
  challenge(request: IncomingMessage, path: string): string;
  /** True while the front drains before it stops: `/readyz` then answers 503, so load balancers go elsewhere. */
  draining(): boolean;
}

/** The header that carries the page's CSRF token on a POST. */
export const CSRF_HEADER = 'x-omnimind-csrf';
/** How long a page's CSRF token is honoured. */
const CSRF_LIFETIME_MS = 24 * 3_600_000;
const DEFAULT_LOG_LINES = 200;
const MAX_LOG_LINES = 2_000;
const ACTION_PATH = /^\/api\/children\/([^/]+)\/(start|stop|restart)$/;
const LOG_PATH = /^\/api\/logs\/([^/]+)$/;

/** An HTTP error of these paths: its status, and `{"error": {"code", "message"}}` as the body. */
class HttpError extends OmnimindError {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(code, message);
    this.status = status;
    this.headers = headers;
  }
}

/** Writes a JSON body. */
function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

/**
 * The fleet's observability on the HTTP front: `GET /healthz`, `/readyz`, `/metrics`, the dashboard page at `/` and
 * its JSON API under `/api/` (reads need the metrics right; a child's start, stop and restart need a token for every
 * endpoint, a same-origin request and the page's CSRF token).
 */
export class Dashboard {
  readonly #options: DashboardOptions;
  /** Signs the pages' CSRF tokens; new at each start, so a token never outlives the process. */
  readonly #csrfKey = randomBytes(32);

  constructor(options: DashboardOptions) {
    this.#options = options;
  }

  /** Whether a path is one of the dashboard's. */
  serves(path: string): boolean {
    return path === '/' || path === '/healthz' || path === '/readyz' || path === '/metrics' || path.startsWith('/api/');
  }

  /** Answers a request for one of its paths. */
  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    try {
      await this.#route(request, response, path);
    } catch (error) {
      if (response.headersSent) return void response.destroy();
      if (error instanceof HttpError) {
        return json(response, error.status, { error: { code: error.code, message: error.message } }, error.headers);
      }
      const code = error instanceof OmnimindError ? error.code : 'INTERNAL';
      const status = code === 'UNKNOWN_CHILD' ? 404 : 500;
      json(response, status, { error: { code, message: (error as Error).message } });
    }
  }

  async #route(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const { fleet } = this.#options;
    const method = request.method ?? 'GET';
    const action = ACTION_PATH.exec(path);
    if (action) {
      if (method !== 'POST') throw this.#notAllowed(method, path, 'POST');
      return await this.#act(request, response, path, decodeURIComponent(action[1]!), action[2] as ChildAction);
    }
    if (method !== 'GET' && method !== 'HEAD') throw this.#notAllowed(method, path, 'GET, HEAD');
    if (path === '/healthz') {
      return void response.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }).end('ok\n');
    }
    if (path === '/readyz') {
      if (this.#options.draining()) return json(response, 503, { ready: false, draining: true, waiting: [] });
      const waiting = fleet.unready();
      return json(response, waiting.length === 0 ? 200 : 503, { ready: waiting.length === 0, waiting });
    }
    if (path === '/') return this.#page(response);
    if (path === '/metrics') {
      if (!this.#options.metricsWithoutAuth) await this.#observer(request, path);
      let text: string;
      try {
        text = await fleet.renderMetrics();
      } catch (error) {
        if (error instanceof OmnimindError && error.code === 'METRICS_DISABLED') {
          throw new HttpError(404, error.code, error.message);
        }
        throw error;
      }
      return void response
        .writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' })
        .end(text);
    }
    await this.#observer(request, path);
    if (path === '/api/fleet') return json(response, 200, { status: fleet.status(), history: fleet.history() });
    const log = LOG_PATH.exec(path);
    if (log) {
      const child = decodeURIComponent(log[1]!);
      const asked = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('lines') ?? DEFAULT_LOG_LINES);
      const count = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_LOG_LINES) : DEFAULT_LOG_LINES;
      const lines = fleet.logTail(child, count);
      if (lines === undefined) throw new HttpError(404, 'UNKNOWN_CHILD', `Unknown child "${child}"`);
      return json(response, 200, { child, lines });
    }
    throw new HttpError(404, 'NOT_FOUND', `Not found: ${path} (the API serves /api/fleet and /api/logs/<child>)`);
  }

  #notAllowed(method: string, path: string, allow: string): HttpError {
    return new HttpError(405, 'METHOD_NOT_ALLOWED', `Method ${method} not allowed on ${path}`, { Allow: allow });
  }

  /** The request's credential: 401 without a valid one. */
  async #credential(request: IncomingMessage, path: string): Promise<Credential> {
    const credential = await this.#options.authenticate(request.headers.authorization);
    if (credential !== undefined) return credential;
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      request.headers.authorization === undefined
        ? 'Unauthorized: send Authorization: Bearer <token> (omnimind token create <name> --metrics)'
        : 'Unauthorized: the token is unknown, revoked or expired',
      { 'WWW-Authenticate': this.#options.challenge(request, path) },
    );
  }

  /** A credential with the metrics right: 401 without one, 403 for one limited to endpoints. */
  async #observer(request: IncomingMessage, path: string): Promise<Credential> {
    const credential = await this.#credential(request, path);
    if (!canObserve(credential)) {
      throw new HttpError(
        403,
        'FORBIDDEN',
        'Forbidden: this token may not read the metrics (omnimind token create <name> --metrics)',
      );
    }
    return credential;
  }

  /** A child's start, stop or restart: same origin, the page's CSRF token, and a token for every endpoint. */
  async #act(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    child: string,
    action: ChildAction,
  ): Promise<void> {
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    const own = `${this.#options.scheme}://${request.headers.host}`.toLowerCase();
    if ((site !== undefined && site !== 'same-origin') || (origin !== undefined && origin.toLowerCase() !== own)) {
      throw new HttpError(403, 'CROSS_SITE', 'Forbidden: a cross-site request may not control children');
    }
    const credential = await this.#credential(request, path);
    if (!this.#csrfValid(request.headers[CSRF_HEADER])) {
      throw new HttpError(403, 'CSRF', `Forbidden: missing or stale ${CSRF_HEADER} header (reload the dashboard)`);
    }
    if (credential.endpoints !== undefined) {
      throw new HttpError(403, 'FORBIDDEN', 'Forbidden: only a token for every endpoint may start or stop children');
    }
    await this.#options.fleet.control(action, child);
    json(response, 200, { child, action, status: this.#options.fleet.status() });
  }

  /** The page, with a fresh CSRF token and a nonce for its script and style. */
  #page(response: ServerResponse): void {
    const nonce = randomBytes(16).toString('base64');
    response
      .writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        'X-Frame-Options': 'DENY',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .end(dashboardPage(nonce, this.#csrfToken()));
  }

  /** A CSRF token: when it was issued, signed with this process's key. */
  #csrfToken(issued = Date.now()): string {
    return `${issued}.${this.#sign(String(issued))}`;
  }

  #sign(text: string): string {
    return createHmac('sha256', this.#csrfKey).update(text).digest('base64url');
  }

  #csrfValid(header: string | string[] | undefined): boolean {
    if (typeof header !== 'string') return false;
    const [issued, signature] = header.split('.');
    const at = Number(issued);
    if (!Number.isSafeInteger(at) || Date.now() - at > CSRF_LIFETIME_MS || signature === undefined) return false;
    const expected = Buffer.from(this.#sign(String(at)));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

import type { ServerResponse } from 'node:http';
import { ErrorCode, readIdText } from '../../protocol/index.js';
import type { ClientTransport, TransportHandlers } from '../transport.js';

/** Events kept per session for `Last-Event-ID` resumption: at most this many, and at most this many bytes. */
const REPLAY_EVENTS = 512;
const REPLAY_BYTES = 4 * 1024 * 1024;
/** Server→client messages held for a standalone GET stream that is not open yet. */
const BACKLOG_MESSAGES = 256;
/** The id of the standalone GET stream; POST streams count up from 1. */
const GET_STREAM = 0;

/**
 * How a stream answers: an SSE stream, one JSON body, or (a client that accepts both) a JSON body unless something
 * must go out before the answers (progress, a server→client request), which turns it into an SSE stream.
 */
type StreamMode = 'sse' | 'json' | 'either';

/** One place a session's answers go: an SSE stream or a JSON body, for the requests of one POST (or the GET). */
class Stream {
  readonly id: number;
  mode: StreamMode;
  /** Id texts of the requests whose answers this stream still owes. */
  readonly pending = new Set<string>();
  /** A JSON body's answers, in order of arrival; `batch` when the client sent an array. */
  readonly answers: string[] = [];
  readonly batch: boolean;
  response: ServerResponse | undefined;

  constructor(id: number, mode: StreamMode, batch: boolean, response: ServerResponse | undefined) {
    this.id = id;
    this.mode = mode;
    this.batch = batch;
    this.response = response;
  }
}

/** Whether a stream can carry an event now: an SSE response (or one that may become one) still open. */
function canStream(stream: Stream): boolean {
  return stream.mode !== 'json' && stream.response !== undefined && !stream.response.destroyed;
}

interface ReplayEvent {
  seq: number;
  stream: number;
  text: string;
}

/** Whether a frame written by a session is a response: `{"jsonrpc":"2.0","id":X,` followed by result or error. */
function isResponse(frame: string, idText: string | undefined): boolean {
  if (idText === undefined) return false;
  const prefix = `{"jsonrpc":"2.0","id":${idText},`;
  if (frame.startsWith(prefix)) {
    return frame.startsWith('"result"', prefix.length) || frame.startsWith('"error"', prefix.length);
  }
  const message = JSON.parse(frame) as Record<string, unknown>;
  return message.method === undefined && ('result' in message || 'error' in message);
}

/** What the listener tells a session about one POST: its messages and where their answers go. */
export interface HttpPost {
  /** The messages as JSON texts, each with its id text when it is a request. */
  messages: ReadonlyArray<{ text: string; idText?: string; method?: string; progressToken?: string }>;
  /** Whether the client sent an array (a 2025-03-26 batch). */
  batch: boolean;
  /** Which answer forms the client accepts. */
  sse: boolean;
  json: boolean;
  /** The request's `traceparent` header: each message's trace continues from it when its `_meta` has none. */
  traceparent?: string;
}

/** Options of a StreamableHttpTransport. */
export interface StreamableHttpOptions {
  credential: string;
  endpointName: string;
  /** What one SSE response may hold unsent before its client is deemed not to read it and the stream is closed. */
  maxUnsentBytes: number;
  /** Hears that the session is over. */
  onEnd(transport: StreamableHttpTransport): void;
  /** Hears that a stream was closed because its client did not read it. */
  onOverflow(transport: StreamableHttpTransport): void;
}

/**
 * One Streamable HTTP session (MCP 2025-03-26 to 2025-11-25) as a session sees its client: each POST's requests are
 * answered on that POST (an SSE stream or a JSON body); server→client messages go to the standalone GET stream (or,
 * while none is open, an open POST stream, else a bounded backlog). Every SSE event has an id; a dropped stream is
 * resumed with `Last-Event-ID` from a bounded replay buffer. A response whose client stops reading is closed.
 */
export class StreamableHttpTransport implements ClientTransport {
  readonly kind = 'http';
  readonly id: string;
  /** Who opened the session (`token:<name>`, `oauth:<sub>`, `anonymous`): only it may use the session. */
  readonly credential: string;
  /** The endpoint the session serves. */
  readonly endpointName: string;
  /** The revision `initialize` negotiated (until then, the one the client asked for). */
  protocolVersion = '2025-03-26';
  /** When the client last sent anything (ms since the epoch): idle sessions expire. */
  lastActive = Date.now();
  #handlers: TransportHandlers | undefined;
  #closed = false;
  #initialized = false;
  #initializeId: string | undefined;
  #nextStream = 1;
  readonly #streams = new Map<number, Stream>();
  /** The stream each pending request's answer goes to, by id text. */
  readonly #byRequest = new Map<string, Stream>();
  /** The stream of the request that asked for progress under each token. */
  readonly #byProgress = new Map<string, Stream>();
  readonly #get = new Stream(GET_STREAM, 'sse', false, undefined);
  readonly #backlog: string[] = [];
  readonly #replay: ReplayEvent[] = [];
  #replayBytes = 0;
  #nextEvent = 1;
  readonly #options: StreamableHttpOptions;
  /** The headers of this session's JSON bodies and SSE streams, made once. */
  readonly #jsonHeaders: Record<string, string>;
  readonly #sseHeaders: Record<string, string>;

  constructor(id: string, options: StreamableHttpOptions) {
    this.id = id;
    this.credential = options.credential;
    this.endpointName = options.endpointName;
    this.#options = options;
    this.#jsonHeaders = { 'Mcp-Session-Id': id, 'Content-Type': 'application/json' };
    this.#sseHeaders = { 'Mcp-Session-Id': id, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
  }

  /** Whether `initialize` has been answered successfully. */
  get initialized(): boolean {
    return this.#initialized;
  }

  /** Whether the standalone GET stream is open. */
  get listening(): boolean {
    return this.#get.response !== undefined;
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
  }

  /** Takes one POST: its requests are answered on `response`; with none, it is answered 202 at once. */
  post(post: HttpPost, response: ServerResponse): void {
    this.lastActive = Date.now();
    const context = post.traceparent === undefined ? undefined : { traceparent: post.traceparent };
    if (!post.messages.some((m) => m.idText !== undefined)) {
      response.writeHead(202, { 'Mcp-Session-Id': this.id }).end();
      for (const message of post.messages) this.#handlers?.onFrame(message.text, context);
      return;
    }
    const mode: StreamMode = !post.sse ? 'json' : post.json ? 'either' : 'sse';
    const stream = new Stream(this.#nextStream++, mode, post.batch, response);
    this.#streams.set(stream.id, stream);
    // A JSON body needs no watch on its response: it is written once, and not at all if the client has gone.
    if (mode === 'sse') this.#openSse(stream);
    const forward: string[] = [];
    const refused: string[] = [];
    for (const message of post.messages) {
      const idText = message.idText;
      if (idText !== undefined && this.#byRequest.has(idText)) {
        refused.push(idText);
        continue;
      }
      if (idText !== undefined) {
        stream.pending.add(idText);
        this.#byRequest.set(idText, stream);
        if (message.method === 'initialize') this.#initializeId = idText;
        if (message.progressToken !== undefined) this.#byProgress.set(message.progressToken, stream);
      }
      forward.push(message.text);
    }
    for (const idText of refused) {
      const error = { code: ErrorCode.InvalidRequest, message: `Request id ${idText} is already in flight` };
      this.#deliver(stream, `{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify(error)}}\n`);
    }
    if (stream.pending.size === 0) this.#finish(stream);
    for (const text of forward) this.#handlers?.onFrame(text, context);
  }

  /** Opens the standalone GET stream (or resumes the stream of `lastEventId`); false when one is already open. */
  listen(response: ServerResponse, lastEventId?: string): boolean {
    this.lastActive = Date.now();
    const seq = lastEventId === undefined ? Number.NaN : Number(lastEventId);
    const event = Number.isSafeInteger(seq) ? this.#replay.find((e) => e.seq === seq) : undefined;
    const stream =
      event === undefined ? this.#get : event.stream === GET_STREAM ? this.#get : this.#streams.get(event.stream);
    if (stream === this.#get && this.#get.response !== undefined) return false;
    if (stream !== undefined && stream.response !== undefined) stream.response.end();
    response.writeHead(200, this.#sseHeaders);
    response.socket?.setTimeout(0);
    response.flushHeaders();
    if (event !== undefined) {
      for (const replayed of this.#replay) {
        if (replayed.seq > event.seq && replayed.stream === event.stream) response.write(replayed.text);
      }
    }
    // A POST stream that has sent every answer is over: its replay is all the client gets.
    if (stream === undefined) {
      response.end();
      return true;
    }
    stream.response = response;
    response.on('close', () => {
      if (stream.response === response) stream.response = undefined;
    });
    if (stream === this.#get) for (const frame of this.#backlog.splice(0)) this.#event(stream, frame);
    return true;
  }

  send(frame: string): void {
    if (this.#closed) return;
    const idText = readIdText(frame);
    if (isResponse(frame, idText)) {
      const stream = this.#byRequest.get(idText as string);
      if (stream === undefined) return;
      // A request that ran long leaves the session as fresh as its answer.
      this.lastActive = Date.now();
      this.#byRequest.delete(idText as string);
      stream.pending.delete(idText as string);
      const initialize = idText === this.#initializeId;
      if (initialize) this.#onInitializeAnswer(frame);
      this.#deliver(stream, frame);
      if (stream.pending.size === 0) this.#finish(stream);
      // A session whose `initialize` failed is over once the client has been told why.
      if (initialize && !this.#initialized) this.close();
      return;
    }
    const message = JSON.parse(frame) as { method?: string; params?: { progressToken?: unknown } };
    const token = message.params?.progressToken;
    const owner =
      message.method === 'notifications/progress' && token !== undefined
        ? this.#byProgress.get(JSON.stringify(token))
        : undefined;
    if (owner !== undefined && canStream(owner)) return this.#event(owner, frame);
    if (this.#get.response !== undefined) return this.#event(this.#get, frame);
    for (const stream of this.#streams.values()) if (canStream(stream)) return this.#event(stream, frame);
    if (this.#backlog.length >= BACKLOG_MESSAGES) this.#backlog.shift();
    this.#backlog.push(frame);
  }

  #onInitializeAnswer(frame: string): void {
    this.#initializeId = undefined;
    const message = JSON.parse(frame) as { result?: { protocolVersion?: unknown } };
    if (typeof message.result?.protocolVersion === 'string') {
      this.protocolVersion = message.result.protocolVersion;
      this.#initialized = true;
    }
  }

  /** Delivers one answer to its stream. */
  #deliver(stream: Stream, frame: string): void {
    if (stream.mode === 'sse') this.#event(stream, frame);
    else stream.answers.push(frame.endsWith('\n') ? frame.slice(0, -1) : frame);
  }

  /** Ends a stream that owes nothing more: an SSE response ends, a JSON body is written. */
  #finish(stream: Stream): void {
    this.#streams.delete(stream.id);
    if (this.#byProgress.size > 0) {
      for (const [token, owner] of this.#byProgress) if (owner === stream) this.#byProgress.delete(token);
    }
    const response = stream.response;
    stream.response = undefined;
    if (response === undefined || response.destroyed) return;
    if (stream.mode === 'sse') return void response.end();
    const body = stream.batch ? `[${stream.answers.join(',')}]` : (stream.answers[0] ?? '');
    response.writeHead(200, this.#jsonHeaders).end(body);
  }

  /** Turns a stream into an SSE response (its headers go with the first event); answers held so far become events. */
  #openSse(stream: Stream): void {
    stream.mode = 'sse';
    const response = stream.response;
    if (response?.destroyed) stream.response = undefined;
    else if (response !== undefined) {
      response.writeHead(200, this.#sseHeaders);
      response.socket?.setTimeout(0);
      response.on('close', () => {
        if (stream.response === response) stream.response = undefined;
      });
    }
    for (const answer of stream.answers.splice(0)) this.#event(stream, answer);
  }

  /** Writes one SSE event and keeps it for resumption; a response that is not being read is closed. */
  #event(stream: Stream, frame: string): void {
    if (stream.mode === 'either') this.#openSse(stream);
    const seq = this.#nextEvent++;
    const data = frame.endsWith('\n') ? frame.slice(0, -1) : frame;
    const text = `id: ${seq}\nevent: message\ndata: ${data}\n\n`;
    this.#replay.push({ seq, stream: stream.id, text });
    this.#replayBytes += text.length;
    while (this.#replay.length > REPLAY_EVENTS || (this.#replayBytes > REPLAY_BYTES && this.#replay.length > 1)) {
      this.#replayBytes -= this.#replay.shift()!.text.length;
    }
    const response = stream.response;
    if (response === undefined) return;
    if (response.writableLength > this.#options.maxUnsentBytes) {
      stream.response = undefined;
      response.destroy();
      this.#options.onOverflow(this);
      return;
    }
    response.write(text);
  }

  /** Sends an SSE comment on every open stream, so that idle proxies keep them. */
  keepAlive(): void {
    for (const stream of [this.#get, ...this.#streams.values()]) {
      if (stream.mode === 'sse' && stream.response !== undefined && stream.response.writableLength === 0) {
        stream.response.write(': keep-alive\n\n');
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of [this.#get, ...this.#streams.values()]) {
      const response = stream.response;
      stream.response = undefined;
      if (response === undefined || response.destroyed) continue;
      if (response.headersSent) response.end();
      else response.writeHead(404, { 'Content-Type': 'application/json' }).end(SESSION_GONE);
    }
    this.#streams.clear();
    this.#byRequest.clear();
    this.#byProgress.clear();
    this.#backlog.length = 0;
    this.#replay.length = 0;
    this.#handlers?.onClose();
    this.#options.onEnd(this);
  }
}

/** The body of a 404 for a request on a session that ended while it waited. */
const SESSION_GONE = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: { code: ErrorCode.InvalidRequest, message: 'Session not found: it was closed or expired; initialize again' },
});

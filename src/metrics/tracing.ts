import { randomFillSync } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Attributes, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type Clock, realClock } from '../clock/index.js';
import { OmnimindError } from '../protocol/index.js';
import { otlpHttpExporter, SpanTemplate, type TemplatedSpan } from './otlp-protobuf.js';
import type { AnsweredOutcome, FailedOutcome, RequestProbe } from './probe.js';
import type { RequestSeries } from './request-metrics.js';

/** Most ended spans waiting for export: beyond it new spans are dropped and counted, never waited for. */
const MAX_QUEUED_SPANS = 8192;
/**
 * Spans per OTLP request, the SDK's default: a busy gateway posts a batch every few tens of milliseconds, before its
 * spans outlive a young-generation collection (a survivor costs a copy, a promoted one a major collection), at about
 * a tenth of a microsecond of posting per span.
 */
const MAX_BATCH_SPANS = 512;
/** How often a partial batch leaves: a span is visible in the collector within about a second. */
const BATCH_DELAY_MS = 1000;
/** One OTLP request's deadline; the batch processor's own is twice it, so the exporter always answers first. */
const EXPORT_TIMEOUT_MS = 5000;
/** How long shutdown waits for the last spans to leave: a collector that is down must not hold up a stop. */
const SHUTDOWN_WAIT_MS = 2000;

/** W3C trace context: version 00 (later versions are read the same way), trace id, parent id, flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/** SpanKind.SERVER and TraceFlags.SAMPLED of the OpenTelemetry API (const enums there). */
const SERVER = 1;
const SAMPLED = 1;
/** The status of a span that ended well: OpenTelemetry's UNSET (code 0), shared by every such span. */
const UNSET: SpanStatus = { code: 0 };

/** Where spans go (`tracing` in the config). */
export interface TracingOptions {
  /** The collector's OTLP/HTTP base URL (`http://localhost:4318`) or its full `/v1/traces` URL. */
  otlpEndpoint: string;
  /** `service.name` of every span (default `omnimind`). */
  serviceName?: string;
}

/** The remote parent a `traceparent` names, or undefined when it is missing or malformed (a trace then starts). */
export function parentSpanContext(traceparent: unknown): SpanContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & SAMPLED, isRemote: true };
}

/** The URL spans are posted to: the OTLP/HTTP traces path under a base URL, or the URL itself if it names it. */
function tracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new OmnimindError('CONFIG_INVALID', `Expected \`tracing.otlpEndpoint\` to be a URL, got \`${endpoint}\``);
  }
  if (url.pathname.endsWith('/v1/traces')) return url.href;
  return `${url.href.replace(/\/+$/, '')}/v1/traces`;
}

/** Random bytes for ids, drawn 4 KiB at a time: an id is a slice of the pool, as hex. */
const idPool = Buffer.allocUnsafe(4096);
let idOffset = idPool.length;

/** A random id of `bytes` bytes as hex, never all zeros (W3C forbids it). */
function randomId(bytes: number, zero: string): string {
  let id = zero;
  while (id === zero) {
    if (idOffset + bytes > idPool.length) {
      randomFillSync(idPool);
      idOffset = 0;
    }
    id = idPool.toString('hex', idOffset, idOffset + bytes);
    idOffset += bytes;
  }
  return id;
}

/** Milliseconds since the epoch as OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  const nanos = Math.round((epochMs - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

/**
 * A copy of an object's own properties, as a spread makes it: Object.assign copies a parsed JSON object about ten
 * times faster than a spread on Node 20, but sets a `__proto__` key (an own key after JSON.parse) as the prototype,
 * so such an object, like anything that is not an object, takes the spread.
 */
function shallowCopy(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.hasOwn(value, '__proto__')) return { ...(value as object) };
  return Object.assign({}, value) as Record<string, unknown>;
}

/** Spans carry neither links nor events: one empty list each, shared. */
const NO_LINKS: Link[] = [];
const NO_EVENTS: ReadableSpan['events'] = [];

/** The status of a span by the outcome that failed it (SpanStatusCode.ERROR is 2), shared by every such span. */
const FAILED = new Map<string, SpanStatus>();

/**
 * One request as an OpenTelemetry span, read by the SDK's batch processor and exporter, and the request's probe (it
 * counts the request in its series too, when metrics are on). Made here rather than by the SDK's tracer: a request's
 * attributes are the gateway's own bounded labels, so the tracer's sampler, context lookup and per-attribute checks
 * and copies would buy nothing; the attributes it starts with are its template's, shared and encoded once; its times
 * come from the project's one clock. It waits in the export queue for up to a second, long enough to outlive a
 * young-generation collection: it holds strings and numbers only (and its shared series), the objects the SDK reads
 * (attributes, times, context) are made when read.
 */
export class RequestSpan implements TemplatedSpan, RequestProbe {
  readonly template: SpanTemplate;
  readonly parentSpanContext: SpanContext | undefined;
  status: SpanStatus = UNSET;
  ended = false;
  readonly #tracer: RequestTracer;
  readonly #series: RequestSeries | undefined;
  readonly #traceId: string;
  readonly #spanId: string;
  readonly #traceFlags: number;
  /** Start on the clock; limiter wait and duration once known. */
  readonly #startMs: number;
  #waitMs: number | undefined;
  #durationMs = 0;
  #cache: string | undefined;
  #outcome: string | undefined;
  #errorCode: number | undefined;

  constructor(
    tracer: RequestTracer,
    template: SpanTemplate,
    parent: SpanContext | undefined,
    series: RequestSeries | undefined,
  ) {
    this.#tracer = tracer;
    this.#series = series;
    this.template = template;
    this.parentSpanContext = parent;
    this.#traceId = parent?.traceId ?? randomId(16, ZERO_TRACE_ID);
    this.#spanId = randomId(8, ZERO_SPAN_ID);
    this.#traceFlags = parent === undefined ? SAMPLED : parent.traceFlags;
    this.#startMs = tracer.clock.now();
  }

  get name(): string {
    return this.template.name;
  }

  get kind(): number {
    return SERVER;
  }

  /** What the request showed as it went: limiter wait, cache, outcome, error code. */
  get ownAttributes(): Attributes {
    const attributes: Attributes = {};
    if (this.#waitMs !== undefined) attributes['omnimind.limiter.wait_ms'] = this.#waitMs;
    if (this.#cache !== undefined) attributes['omnimind.cache'] = this.#cache;
    if (this.#outcome !== undefined) attributes['omnimind.outcome'] = this.#outcome;
    if (this.#errorCode !== undefined) attributes['rpc.jsonrpc.error_code'] = this.#errorCode;
    return attributes;
  }

  /** The template's attributes, then the span's own (the order they are encoded in). */
  get attributes(): Attributes {
    return { ...this.template.attributes, ...this.ownAttributes };
  }

  get startTime(): HrTime {
    return hrTime(this.#tracer.epochOffsetMs + this.#startMs);
  }

  get endTime(): HrTime {
    return hrTime(this.#tracer.epochOffsetMs + this.#startMs + this.#durationMs);
  }

  get duration(): HrTime {
    return hrTime(this.#durationMs);
  }

  get links(): Link[] {
    return NO_LINKS;
  }

  get events(): ReadableSpan['events'] {
    return NO_EVENTS;
  }

  get droppedAttributesCount(): number {
    return 0;
  }

  get droppedEventsCount(): number {
    return 0;
  }

  get droppedLinksCount(): number {
    return 0;
  }

  get resource(): Resource {
    return this.#tracer.resource;
  }

  get instrumentationScope(): { name: string } {
    return this.#tracer.scope;
  }

  spanContext(): SpanContext {
    return { traceId: this.#traceId, spanId: this.#spanId, traceFlags: this.#traceFlags };
  }

  /** Whether the span is sent (the caller did not say "not sampled"). */
  get sampled(): boolean {
    return (this.#traceFlags & SAMPLED) !== 0;
  }

  /** The `traceparent` that names this span as the parent of what the child does. */
  get traceparent(): string {
    return `00-${this.#traceId}-${this.#spanId}-${this.#traceFlags & SAMPLED ? '01' : '00'}`;
  }

  /** The params to send to the child: a copy whose `_meta.traceparent` names this span, the rest as the client sent. */
  forwarded(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const traceparent = this.traceparent;
    if (params === undefined) return { _meta: { traceparent } };
    const copy = shallowCopy(params);
    const meta: Record<string, unknown> = params._meta === undefined ? {} : shallowCopy(params._meta);
    meta.traceparent = traceparent;
    copy._meta = meta;
    return copy;
  }

  /** The limiter admitted the request: its wait is over. */
  admitted(): void {
    this.#waitMs = this.#tracer.clock.now() - this.#startMs;
  }

  /** The request got an answer (from the child or the cache) after `latencyMs`: counted, and the span ended. */
  answered(outcome: AnsweredOutcome, latencyMs: number): void {
    this.#series?.answered(outcome, latencyMs);
    const cached = outcome.cached === true;
    if (outcome.kind === 'error') this.end(latencyMs, 'error', cached ? 'hit' : 'miss', outcome.error?.code);
    else this.end(latencyMs, cached ? 'cached' : 'ok', cached ? 'hit' : 'miss', undefined);
  }

  /** The gateway failed the request itself (shed, timed out, internal error) after `latencyMs`. */
  failed(error: FailedOutcome, latencyMs: number): void {
    this.#series?.failed(error, latencyMs);
    const outcome = error.code === 'SHED' ? 'shed' : error.code === 'TIMEOUT' ? 'timeout' : 'error';
    this.end(latencyMs, outcome, undefined, undefined);
  }

  /**
   * Ends the span `durationMs` after its start (the request's latency, measured on the same clock) with its outcome
   * (`ok` and `cached` are answers, anything else fails the span), the cache's `hit` or `miss` and a JSON-RPC error code.
   */
  end(durationMs: number, outcome: string, cache: string | undefined, errorCode: number | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.#durationMs = durationMs;
    this.#outcome = outcome;
    this.#cache = cache;
    this.#errorCode = errorCode;
    if (outcome !== 'ok' && outcome !== 'cached') {
      let status = FAILED.get(outcome);
      if (status === undefined) {
        status = { code: 2, message: outcome };
        FAILED.set(outcome, status);
      }
      this.status = status;
    }
    this.#tracer.ended(this);
  }
}

/** Counts what leaves and what is lost; each batch is serialised and posted on a later turn of the event loop. */
class CountingExporter implements SpanExporter {
  exported = 0;
  failed = 0;
  queued = 0;
  readonly #inner: SpanExporter;
  readonly #onBatch: () => void;

  constructor(inner: SpanExporter, onBatch: () => void) {
    this.#inner = inner;
    this.#onBatch = onBatch;
  }

  export(spans: ReadableSpan[], done: (result: { code: number; error?: Error }) => void): void {
    this.#onBatch();
    // The batch processor exports from inside the span.end() that fills a batch: deferred, no request's turn pays for it.
    setImmediate(() =>
      this.#inner.export(spans, (result) => {
        this.queued -= spans.length;
        // ExportResultCode.SUCCESS is 0.
        if (result.code === 0) this.exported += spans.length;
        else this.failed += spans.length;
        done(result);
      }),
    );
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Span counts since start: exported, failed to export (collector down or refusing), dropped (queue full). */
export interface TracingStats {
  exported: number;
  failed: number;
  dropped: number;
}

/** Makes one span per request and sends them over OTLP/HTTP (protobuf) in batches, off the request's path. */
export class RequestTracer {
  readonly resource: Resource;
  readonly scope = { name: 'omnimind' };
  readonly clock: Clock;
  /** The epoch time of the clock's zero, read again at each batch so that span times follow the wall clock. */
  epochOffsetMs: number;
  #dropped = 0;
  readonly #exporter: CountingExporter;
  readonly #batch: BatchSpanProcessor;

  constructor(options: TracingOptions, clock: Clock = realClock) {
    this.clock = clock;
    this.epochOffsetMs = clock.wallNow() - clock.now();
    this.resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'omnimind' });
    this.#exporter = new CountingExporter(otlpHttpExporter(tracesUrl(options.otlpEndpoint), EXPORT_TIMEOUT_MS), () => {
      this.epochOffsetMs = clock.wallNow() - clock.now();
    });
    this.#batch = new BatchSpanProcessor(this.#exporter, {
      maxQueueSize: MAX_QUEUED_SPANS,
      maxExportBatchSize: MAX_BATCH_SPANS,
      scheduledDelayMillis: BATCH_DELAY_MS,
      exportTimeoutMillis: 2 * EXPORT_TIMEOUT_MS,
    });
  }

  /** The span name and attributes one kind of request shares, encoded once. */
  template(name: string, attributes: Attributes): SpanTemplate {
    return new SpanTemplate(name, attributes);
  }

  /**
   * Starts a request's span, the child of the span `traceparent` names (a new trace when there is none); it counts
   * the request in `series` as well, when given.
   */
  start(template: SpanTemplate, traceparent: unknown, series?: RequestSeries): RequestSpan {
    return new RequestSpan(this, template, parentSpanContext(traceparent), series);
  }

  /** Hands an ended span to the batch processor, or drops and counts it when the export queue is full. */
  ended(span: RequestSpan): void {
    // A caller that said "not sampled" gets its context passed on, and no span is sent.
    if (!span.sampled) return;
    if (this.#exporter.queued >= MAX_QUEUED_SPANS) {
      this.#dropped++;
      return;
    }
    this.#exporter.queued++;
    this.#batch.onEnd(span);
  }

  /** What became of the spans so far. */
  stats(): TracingStats {
    return { exported: this.#exporter.exported, failed: this.#exporter.failed, dropped: this.#dropped };
  }

  /** Sends what is queued (waiting at most a short while) and stops. */
  async shutdown(): Promise<void> {
    const wait = new AbortController();
    await Promise.race([
      this.#batch.shutdown().catch(() => {}),
      delay(SHUTDOWN_WAIT_MS, undefined, { signal: wait.signal }).catch(() => {}),
    ]);
    wait.abort();
  }
}

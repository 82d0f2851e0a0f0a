import { setTimeout as delay } from 'node:timers/promises';
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OmnimindError } from '../protocol/index.js';

/** Most ended spans waiting for export: beyond it new spans are dropped and counted, never waited for. */
const MAX_QUEUED_SPANS = 2048;
/** Spans per OTLP request: the SDK's default batch. */
const MAX_BATCH_SPANS = 512;
/** How often a partial batch leaves: a span is visible in the collector within about a second. */
const BATCH_DELAY_MS = 1000;
/** One OTLP request's deadline; the batch processor's own is twice it, so the exporter always answers first. */
const EXPORT_TIMEOUT_MS = 5000;
/** How long shutdown waits for the last spans to leave: a collector that is down must not hold up a stop. */
const SHUTDOWN_WAIT_MS = 2000;

/** W3C trace context: version 00 (later versions are read the same way), trace id, parent id, flags. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Where spans go (`tracing` in the config). */
export interface TracingOptions {
  /** The collector's OTLP/HTTP base URL (`http://localhost:4318`) or its full `/v1/traces` URL. */
  otlpEndpoint: string;
  /** `service.name` of every span (default `omnimind`). */
  serviceName?: string;
}

/** The parent a `traceparent` names, or the root context when it is missing or malformed (a trace then starts). */
export function parentContext(traceparent: unknown): Context {
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return ROOT_CONTEXT;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
  });
}

/** The `traceparent` that names a span as the parent of what the child does. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
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

/** Counts what leaves and what is lost: spans handed to the batch processor until the exporter reports on them. */
class CountingExporter implements SpanExporter {
  exported = 0;
  failed = 0;
  queued = 0;
  readonly #inner: SpanExporter;

  constructor(inner: SpanExporter) {
    this.#inner = inner;
  }

  export(spans: ReadableSpan[], done: (result: { code: number; error?: Error }) => void): void {
    this.#inner.export(spans, (result) => {
      this.queued -= spans.length;
      // ExportResultCode.SUCCESS is 0.
      if (result.code === 0) this.exported += spans.length;
      else this.failed += spans.length;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** The batch processor behind a bound: a span that would overflow its queue is dropped here and counted. */
class BoundedProcessor implements SpanProcessor {
  dropped = 0;
  readonly #inner: SpanProcessor;
  readonly #exporter: CountingExporter;

  constructor(inner: SpanProcessor, exporter: CountingExporter) {
    this.#inner = inner;
    this.#exporter = exporter;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#exporter.queued >= MAX_QUEUED_SPANS) {
      this.dropped++;
      return;
    }
    this.#exporter.queued++;
    this.#inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

/** Span counts since start: exported, failed to export (collector down or refusing), dropped (queue full). */
export interface TracingStats {
  exported: number;
  failed: number;
  dropped: number;
}

/** Makes one span per request and sends them over OTLP/HTTP in batches, off the request's path. */
export class RequestTracer {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #exporter: CountingExporter;
  readonly #processor: BoundedProcessor;

  constructor(options: TracingOptions) {
    this.#exporter = new CountingExporter(
      new OTLPTraceExporter({ url: tracesUrl(options.otlpEndpoint), timeoutMillis: EXPORT_TIMEOUT_MS }),
    );
    const batch = new BatchSpanProcessor(this.#exporter, {
      maxQueueSize: MAX_QUEUED_SPANS,
      maxExportBatchSize: MAX_BATCH_SPANS,
      scheduledDelayMillis: BATCH_DELAY_MS,
      exportTimeoutMillis: 2 * EXPORT_TIMEOUT_MS,
    });
    this.#processor = new BoundedProcessor(batch, this.#exporter);
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'omnimind' }),
      spanProcessors: [this.#processor],
    });
    this.#tracer = this.#provider.getTracer('omnimind');
  }

  /** Starts a request's span, the child of the span `traceparent` names (a new trace when there is none). */
  start(name: string, traceparent: unknown, attributes: Attributes): Span {
    return this.#tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parentContext(traceparent));
  }

  /** What became of the spans so far. */
  stats(): TracingStats {
    return { exported: this.#exporter.exported, failed: this.#exporter.failed, dropped: this.#processor.dropped };
  }

  /** Sends what is queued (waiting at most a short while) and stops. */
  async shutdown(): Promise<void> {
    const wait = new AbortController();
    await Promise.race([
      this.#provider.shutdown().catch(() => {}),
      delay(SHUTDOWN_WAIT_MS, undefined, { signal: wait.signal }).catch(() => {}),
    ]);
    wait.abort();
  }
}

import { collectDefaultMetrics, Registry } from 'prom-client';
import { type FleetSample, registerFleetMetrics } from './fleet-metrics.js';
import { childLabel, methodLabel, toolLabel } from './labels.js';
import type { SpanTemplate } from './otlp-protobuf.js';
import { type AnsweredOutcome, type FailedOutcome, RequestMetrics, type RequestSeries } from './request-metrics.js';
// Tracing (the OpenTelemetry SDK and its exporter) is loaded by whoever configures it, never just to count requests.
import type { RequestSpan, RequestTracer } from './tracing.js';

/** The content type of the text exposition (`GET /metrics` answers with it). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The `metrics` setting of the config, and the tracer when `tracing` is configured. */
export interface TelemetryOptions {
  /** Counters and histograms (default on). */
  metrics?: { enabled?: boolean };
  /** Spans over OTLP/HTTP (a RequestTracer from ./tracing.js); off without it. */
  tracer?: RequestTracer;
  /** Reads the fleet's state at each scrape. */
  sample: () => FleetSample;
}

/** What the gateway knows of a request when it starts. */
export interface RequestStart {
  endpoint: string;
  child: string;
  method: string;
  /** The tool a `tools/call` names, and the child's own tools list (the names a label may take). */
  tool: string | undefined;
  tools: readonly { name: string }[];
  priority: string;
  /** The `_meta.traceparent` the request carries, if any. */
  traceparent: unknown;
}

/** One request as telemetry follows it, from its start in the gateway to its answer. */
export interface RequestProbe {
  /** The params to send to the child: with tracing on, `_meta.traceparent` names this request's span. */
  forwarded(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined;
  /** The limiter admitted the request: its wait is over. */
  admitted(): void;
  /** The request got an answer (from the child or the cache) after `latencyMs`. */
  answered(outcome: AnsweredOutcome, latencyMs: number): void;
  /** The gateway failed the request itself (shed, timed out, internal error) after `latencyMs`. */
  failed(error: FailedOutcome, latencyMs: number): void;
}

/** A metrics-only probe: the request's cached series, shared by every request with the same labels. */
class SeriesProbe implements RequestProbe {
  readonly #series: RequestSeries;

  constructor(series: RequestSeries) {
    this.#series = series;
  }

  forwarded(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    return params;
  }

  admitted(): void {}

  answered(outcome: AnsweredOutcome, latencyMs: number): void {
    this.#series.answered(outcome, latencyMs);
  }

  failed(error: FailedOutcome, latencyMs: number): void {
    this.#series.failed(error, latencyMs);
  }
}

/** A traced request: its span, ended with the request's outcome; and its series when metrics are on. */
class TracedProbe implements RequestProbe {
  readonly #span: RequestSpan;
  readonly #series: RequestSeries | undefined;

  constructor(span: RequestSpan, series: RequestSeries | undefined) {
    this.#span = span;
    this.#series = series;
  }

  forwarded(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const meta = params?._meta as Record<string, unknown> | undefined;
    return { ...params, _meta: { ...meta, traceparent: this.#span.traceparent } };
  }

  admitted(): void {
    this.#span.admitted();
  }

  answered(outcome: AnsweredOutcome, latencyMs: number): void {
    this.#series?.answered(outcome, latencyMs);
    const cached = outcome.cached === true;
    if (outcome.kind === 'error') this.#span.end(latencyMs, 'error', cached ? 'hit' : 'miss', outcome.error?.code);
    else this.#span.end(latencyMs, cached ? 'cached' : 'ok', cached ? 'hit' : 'miss', undefined);
  }

  failed(error: FailedOutcome, latencyMs: number): void {
    this.#series?.failed(error, latencyMs);
    const outcome = error.code === 'SHED' ? 'shed' : error.code === 'TIMEOUT' ? 'timeout' : 'error';
    this.#span.end(latencyMs, outcome, undefined, undefined);
  }
}

/** Counters, histograms and spans of the gateway's requests, and the fleet's state read at scrape time. */
export class Telemetry {
  readonly #registry: Registry | undefined;
  readonly #requests: RequestMetrics | undefined;
  readonly #tracer: RequestTracer | undefined;
  readonly #sample: () => FleetSample;
  readonly #probes = new WeakMap<RequestSeries, SeriesProbe>();
  /** Span templates by series and priority; by their labels when metrics are off (no series). */
  readonly #templates = new WeakMap<RequestSeries, Map<string, SpanTemplate>>();
  readonly #templatesByLabels = new Map<string, Map<string, SpanTemplate>>();
  /** The fleet as read for the scrape under way (one read per scrape, shared by every gauge). */
  #scraped: FleetSample | undefined;

  constructor(options: TelemetryOptions) {
    this.#sample = options.sample;
    if (options.metrics?.enabled !== false) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      this.#requests = new RequestMetrics(registry);
      registerFleetMetrics(registry, () => this.#fleet());
      this.#registry = registry;
    }
    this.#tracer = options.tracer;
  }

  /** Whether requests are traced (only then does a transport's `traceparent` header matter). */
  get tracing(): boolean {
    return this.#tracer !== undefined;
  }

  /** Whether metrics are collected (`metrics.enabled`, default true). */
  get metricsEnabled(): boolean {
    return this.#registry !== undefined;
  }

  #fleet(): FleetSample {
    const sample = this.#scraped ?? this.#sample();
    if (this.#tracer !== undefined) sample.tracing = this.#tracer.stats();
    return sample;
  }

  /** Starts following a request: metrics only, it allocates nothing; with tracing, it starts the request's span. */
  begin(start: RequestStart): RequestProbe | undefined {
    const series = this.#requests?.series(start.endpoint, start.child, start.method, start.tool, start.tools);
    if (this.#tracer === undefined) {
      if (series === undefined) return undefined;
      let probe = this.#probes.get(series);
      if (probe === undefined) {
        probe = new SeriesProbe(series);
        this.#probes.set(series, probe);
      }
      return probe;
    }
    return new TracedProbe(this.#tracer.start(this.#template(start, series), start.traceparent), series);
  }

  /** The span template of a request: looked up by its series (or labels) and priority, made once for each. */
  #template(start: RequestStart, series: RequestSeries | undefined): SpanTemplate {
    let byPriority = series === undefined ? undefined : this.#templates.get(series);
    let labels = series?.labels;
    if (byPriority === undefined) {
      labels ??= {
        endpoint: start.endpoint,
        child: childLabel(start.child),
        method: methodLabel(start.method),
        tool: toolLabel(start.tool, start.tools),
      };
      if (series !== undefined) {
        byPriority = new Map();
        this.#templates.set(series, byPriority);
      } else {
        // Metrics off: the labels themselves name the kind of request (bounded, as they are).
        const key = `${labels.endpoint}\n${labels.child}\n${labels.method}\n${labels.tool}`;
        byPriority = this.#templatesByLabels.get(key);
        if (byPriority === undefined) {
          byPriority = new Map();
          this.#templatesByLabels.set(key, byPriority);
        }
      }
    }
    let template = byPriority.get(start.priority);
    if (template === undefined) {
      const { endpoint, child, method, tool } = labels as NonNullable<typeof labels>;
      template = (this.#tracer as RequestTracer).template(tool === '' ? method : `${method} ${tool}`, {
        'omnimind.endpoint': endpoint,
        'omnimind.child': child,
        'mcp.method.name': method,
        'omnimind.tool': tool,
        'omnimind.priority': start.priority,
      });
      byPriority.set(start.priority, template);
    }
    return template;
  }

  /** The text exposition of every metric (`omnimind metrics`, `GET /metrics`); undefined when metrics are off. */
  async render(): Promise<string | undefined> {
    if (this.#registry === undefined) return undefined;
    this.#scraped = this.#sample();
    try {
      return await this.#registry.metrics();
    } finally {
      this.#scraped = undefined;
    }
  }

  /** Sends the spans still queued (briefly) and stops; the registry needs no closing. */
  async shutdown(): Promise<void> {
    await this.#tracer?.shutdown();
  }
}

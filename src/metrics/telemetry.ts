import { collectDefaultMetrics, Registry } from 'prom-client';
import { type FleetSample, registerFleetMetrics } from './fleet-metrics.js';
import type { RequestLabels } from './labels.js';
import type { SpanTemplate } from './otlp-protobuf.js';
import type { RequestProbe } from './probe.js';
import { RequestKinds } from './request-kinds.js';
import { RequestMetrics, type RequestSeries } from './request-metrics.js';
// Tracing (the OpenTelemetry SDK and its exporter) is loaded by whoever configures it, never just to count requests.
import type { RequestTracer } from './tracing.js';

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

/** One kind of request: its labels, its counts when metrics are on, its span templates by priority. */
interface RequestKind {
  readonly labels: RequestLabels;
  readonly series: RequestSeries | undefined;
  readonly templates: Map<string, SpanTemplate>;
}

/** Counters, histograms and spans of the gateway's requests, and the fleet's state read at scrape time. */
export class Telemetry {
  readonly #registry: Registry | undefined;
  readonly #tracer: RequestTracer | undefined;
  readonly #sample: () => FleetSample;
  /** Each kind of request: its series (metrics on) and its span templates (tracing on); none when both are off. */
  readonly #kinds: RequestKinds<RequestKind> | undefined;
  /** The fleet as read for the scrape under way (one read per scrape, shared by every gauge). */
  #scraped: FleetSample | undefined;

  constructor(options: TelemetryOptions) {
    this.#sample = options.sample;
    let requests: RequestMetrics | undefined;
    if (options.metrics?.enabled !== false) {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      requests = new RequestMetrics(registry);
      registerFleetMetrics(registry, () => this.#fleet());
      this.#registry = registry;
    }
    this.#tracer = options.tracer;
    if (requests !== undefined || this.#tracer !== undefined) {
      this.#kinds = new RequestKinds((labels) => ({ labels, series: requests?.series(labels), templates: new Map() }));
    }
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

  /** Starts following a request: metrics only, its series is the probe (nothing allocated); with tracing, its span. */
  begin(start: RequestStart): RequestProbe | undefined {
    const kinds = this.#kinds;
    if (kinds === undefined) return undefined;
    const kind = kinds.get(start.endpoint, start.child, start.method, start.tool, start.tools);
    const tracer = this.#tracer;
    if (tracer === undefined) return kind.series;
    let template = kind.templates.get(start.priority);
    if (template === undefined) {
      const { endpoint, child, method, tool } = kind.labels;
      template = tracer.template(tool === '' ? method : `${method} ${tool}`, {
        'omnimind.endpoint': endpoint,
        'omnimind.child': child,
        'mcp.method.name': method,
        'omnimind.tool': tool,
        'omnimind.priority': start.priority,
      });
      kind.templates.set(start.priority, template);
    }
    return tracer.start(template, start.traceparent, kind.series);
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

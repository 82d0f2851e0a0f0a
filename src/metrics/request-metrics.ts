import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_S } from './buckets.js';
import { childLabel, codeLabel, methodLabel, toolLabel } from './labels.js';

/** How one request ended, as the gateway saw it. */
export type RequestOutcome = 'ok' | 'cached' | 'error' | 'shed' | 'timeout';

/** What a request's answer says about its outcome: a result (from the cache or not) or a JSON-RPC error. */
export interface AnsweredOutcome {
  kind: 'result' | 'error';
  cached?: boolean;
  error?: { code: number };
}

/** Why the gateway answered a request itself: the limiter's `SHED`/`TIMEOUT`, or anything else. */
export interface FailedOutcome {
  code?: string;
}

/** The counters of one (endpoint, child, method, tool): made once, then each request is a lookup and an increment. */
export class RequestSeries {
  readonly #metrics: RequestMetrics;
  readonly #labels: { endpoint: string; child: string; method: string; tool: string };
  readonly #latency: Histogram.Internal<'child' | 'method'>;
  readonly #byOutcome = new Map<string, Counter.Internal>();
  readonly #ok: Counter.Internal;

  constructor(metrics: RequestMetrics, labels: RequestSeries['labels']) {
    this.#metrics = metrics;
    this.#labels = labels;
    this.#latency = metrics.latency.labels(labels.child, labels.method);
    this.#ok = this.#counter('ok', '');
  }

  /** The labels every counter of this series carries. */
  get labels(): { endpoint: string; child: string; method: string; tool: string } {
    return this.#labels;
  }

  #counter(outcome: RequestOutcome, code: string): Counter.Internal {
    const key = `${outcome}:${code}`;
    let counter = this.#byOutcome.get(key);
    if (counter === undefined) {
      const { endpoint, child, method, tool } = this.#labels;
      counter = this.#metrics.requests.labels(endpoint, child, method, tool, outcome, code);
      this.#byOutcome.set(key, counter);
    }
    return counter;
  }

  /** Counts a request that got an answer after `latencyMs`. */
  answered(outcome: AnsweredOutcome, latencyMs: number): void {
    this.#latency.observe(latencyMs / 1000);
    if (outcome.kind === 'error') this.#counter('error', codeLabel(outcome.error?.code)).inc();
    else if (outcome.cached === true) this.#counter('cached', '').inc();
    else this.#ok.inc();
  }

  /** Counts a request the gateway failed itself (shed, timed out, or an internal error) after `latencyMs`. */
  failed(error: FailedOutcome, latencyMs: number): void {
    this.#latency.observe(latencyMs / 1000);
    if (error.code === 'SHED') this.#counter('shed', '').inc();
    else if (error.code === 'TIMEOUT') this.#counter('timeout', '').inc();
    else this.#counter('error', codeLabel(-32603)).inc();
  }
}

/** The request counters and latency histograms of a registry, with their labelled series cached. */
export class RequestMetrics {
  /** Requests by endpoint, child, method, tool, outcome and error code. */
  readonly requests: Counter<string>;
  /** Latency seen by clients, by child and method. */
  readonly latency: Histogram<'child' | 'method'>;
  readonly #series = new Map<string, RequestSeries>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'omnimind_requests_total',
      help: 'Requests answered to clients, by endpoint, child, method, tool, outcome (ok, cached, error, shed, timeout) and error code.',
      labelNames: ['endpoint', 'child', 'method', 'tool', 'outcome', 'code'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'omnimind_request_duration_seconds',
      help: 'Time from a request reaching omnimind to its answer (limiter wait, cache and child included), by child and method.',
      labelNames: ['child', 'method'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    });
  }

  /** The series of a request; `tools` is the child's own tools list, the only names a `tool` label may take. */
  series(
    endpoint: string,
    child: string,
    method: string,
    tool: string | undefined,
    tools: readonly { name: string }[],
  ) {
    const methodName = methodLabel(method);
    const toolName = toolLabel(tool, tools);
    const childName = childLabel(child);
    const key = `${endpoint}\n${childName}\n${methodName}\n${toolName}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new RequestSeries(this, { endpoint, child: childName, method: methodName, tool: toolName });
      this.#series.set(key, series);
    }
    return series;
  }
}

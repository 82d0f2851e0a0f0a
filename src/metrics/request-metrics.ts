import type { Counter, Registry } from 'prom-client';
import { bucketIndex, LATENCY_BUCKETS_S } from './buckets.js';
import { codeLabel, KNOWN_CODES, OTHER, type RequestLabels } from './labels.js';
import type { AnsweredOutcome, FailedOutcome, RequestOutcome, RequestProbe } from './probe.js';

/** The counts of every series, in exposition order: one per outcome, an error one per `code` label. */
const CELLS: ReadonlyArray<{ outcome: RequestOutcome; code: string }> = [
  { outcome: 'ok', code: '' },
  { outcome: 'cached', code: '' },
  { outcome: 'shed', code: '' },
  { outcome: 'timeout', code: '' },
  ...[...KNOWN_CODES.map(codeLabel), OTHER].map((code) => ({ outcome: 'error' as const, code })),
];
const OK = 0;
const CACHED = 1;
const SHED = 2;
const TIMEOUT = 3;
/** The count of an error answer by its code; a code outside these (a child's own) counts as `other`. */
const ERROR_CELLS = new Map<unknown, number>(KNOWN_CODES.map((code, i) => [code, TIMEOUT + 1 + i]));
const OTHER_ERROR = CELLS.length - 1;
const INTERNAL_ERROR = ERROR_CELLS.get(-32603) as number;

/** Latency cells: one count per bucket (the last one +Inf), then the sum of the latencies observed, in seconds. */
const SUM = LATENCY_BUCKETS_S.length + 1;

/** One (child, method) latency histogram: its cells, and its labels as the exposition writes them. */
interface Latency {
  readonly labels: { child: string; method: string };
  readonly cells: Float64Array;
}

/** One value of a scrape, in the shape prom-client's Registry formats (`le` first, as its histograms write it). */
interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * The counts of one (endpoint, child, method, tool) as plain numbers, read only at scrape time; it is also the probe
 * of a request when tracing is off (nothing to do before the answer, nothing allocated).
 */
export class RequestSeries implements RequestProbe {
  readonly labels: RequestLabels;
  /** Requests by outcome and code (CELLS). */
  readonly counts = new Float64Array(CELLS.length);
  readonly #latency: Float64Array;

  constructor(labels: RequestLabels, latency: Float64Array) {
    this.labels = labels;
    this.#latency = latency;
  }

  forwarded(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    return params;
  }

  admitted(): void {}

  /** Counts a request that got an answer after `latencyMs`. */
  answered(outcome: AnsweredOutcome, latencyMs: number): void {
    this.#observe(latencyMs / 1000);
    if (outcome.kind === 'error') this.counts[ERROR_CELLS.get(outcome.error?.code) ?? OTHER_ERROR]! += 1;
    else this.counts[outcome.cached === true ? CACHED : OK]! += 1;
  }

  /** Counts a request the gateway failed itself (shed, timed out, or an internal error) after `latencyMs`. */
  failed(error: FailedOutcome, latencyMs: number): void {
    this.#observe(latencyMs / 1000);
    this.counts[error.code === 'SHED' ? SHED : error.code === 'TIMEOUT' ? TIMEOUT : INTERNAL_ERROR]! += 1;
  }

  #observe(seconds: number): void {
    const cells = this.#latency;
    cells[bucketIndex(seconds)]! += 1;
    cells[SUM]! += seconds;
  }
}

/**
 * A metric whose values are read from plain numbers when scraped, registered with prom-client's Registry, which
 * writes the exposition (HELP, TYPE, names, labels, escaping, number format) as for its own metrics.
 */
class ScrapedMetric {
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly #read: () => Value[];

  constructor(name: string, help: string, type: 'counter' | 'histogram', read: () => Value[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#read = read;
  }

  /** The metric with its values now, as prom-client's `Metric.get()` gives it. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Value[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#read() };
  }
}

/** The request counters and latency histograms of a registry: their series hold numbers, read at each scrape. */
export class RequestMetrics {
  readonly #series: RequestSeries[] = [];
  /** Latency by child and method (`child\nmethod`), in the order first seen. */
  readonly #latency = new Map<string, Latency>();

  constructor(registry: Registry) {
    const requests = new ScrapedMetric(
      'omnimind_requests_total',
      'Requests answered to clients, by endpoint, child, method, tool, outcome (ok, cached, error, shed, timeout) and error code.',
      'counter',
      () => this.#requestValues(),
    );
    const latency = new ScrapedMetric(
      'omnimind_request_duration_seconds',
      'Time from a request reaching omnimind to its answer (limiter wait, cache and child included), by child and method.',
      'histogram',
      () => this.#latencyValues(),
    );
    // The Registry takes any metric with a name and a get(); its typings name only its own classes.
    registry.registerMetric(requests as unknown as Counter);
    registry.registerMetric(latency as unknown as Counter);
  }

  /** A new series for one label set (RequestKinds makes one per set). */
  series(labels: RequestLabels): RequestSeries {
    const key = `${labels.child}\n${labels.method}`;
    let latency = this.#latency.get(key);
    if (latency === undefined) {
      latency = {
        labels: { child: labels.child, method: labels.method },
        cells: new Float64Array(SUM + 1),
      };
      this.#latency.set(key, latency);
    }
    const series = new RequestSeries(labels, latency.cells);
    this.#series.push(series);
    return series;
  }

  /** Every count above zero, labelled as `omnimind_requests_total` always was. */
  #requestValues(): Value[] {
    const values: Value[] = [];
    for (const { labels, counts } of this.#series) {
      for (let i = 0; i < counts.length; i++) {
        const value = counts[i] as number;
        if (value === 0) continue;
        const { outcome, code } = CELLS[i] as (typeof CELLS)[number];
        values.push({ value, labels: { ...labels, outcome, code } });
      }
    }
    return values;
  }

  /** Each histogram that observed something: cumulative buckets, +Inf, sum and count, as prom-client writes them. */
  #latencyValues(): Value[] {
    const values: Value[] = [];
    const bucket = 'omnimind_request_duration_seconds_bucket';
    for (const { labels, cells } of this.#latency.values()) {
      let count = 0;
      for (let i = 0; i < SUM; i++) count += cells[i] as number;
      if (count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
        cumulative += cells[i] as number;
        values.push({
          value: cumulative,
          labels: { le: LATENCY_BUCKETS_S[i] as number, ...labels },
          metricName: bucket,
        });
      }
      values.push(
        { value: count, labels: { le: '+Inf', ...labels }, metricName: bucket },
        { value: cells[SUM] as number, labels: { ...labels }, metricName: 'omnimind_request_duration_seconds_sum' },
        { value: count, labels: { ...labels }, metricName: 'omnimind_request_duration_seconds_count' },
      );
    }
    return values;
  }
}

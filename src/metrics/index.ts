export { bucketIndex, LATENCY_BUCKETS_S, quantileOfBuckets } from './buckets.js';
export type { ChildSample, FleetSample } from './fleet-metrics.js';
export type { AnsweredOutcome, FailedOutcome, RequestProbe } from './probe.js';
export {
  METRICS_CONTENT_TYPE,
  type RequestStart,
  Telemetry,
  type TelemetryOptions,
} from './telemetry.js';
export type { RequestTracer, TracingOptions, TracingStats } from './tracing.js';

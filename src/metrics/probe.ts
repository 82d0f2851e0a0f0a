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

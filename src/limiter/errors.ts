import { ErrorCode, OmnimindError } from '../protocol/index.js';
import type { Priority } from './types.js';

/** Why the limiter refused a request: shed under overload, or its deadline passed. */
export type RejectionCode = 'SHED' | 'TIMEOUT';

/** A request the limiter shed (answer -32010) or timed out (answer -32001). */
export class LimiterRejection extends OmnimindError {
  declare readonly code: RejectionCode;
  /** For SHED: how long the client should wait before retrying. */
  readonly retryAfterMs?: number;
  readonly priority: Priority;
  /** For TIMEOUT: the deadline that passed. */
  readonly timeoutMs?: number;
  /** The JSON-RPC error code the gateway answers with. */
  readonly rpcCode: typeof ErrorCode.Overloaded | typeof ErrorCode.RequestTimeout;
  /** The JSON-RPC error `data` the gateway answers with (CONTRACT.md, "Errors on the wire"). */
  readonly data: { retryAfterMs: number; priority: Priority } | { timeoutMs: number };

  private constructor(
    code: RejectionCode,
    message: string,
    fields: { priority: Priority; retryAfterMs?: number; timeoutMs?: number },
  ) {
    super(code, message);
    this.name = 'LimiterRejection';
    this.priority = fields.priority;
    if (code === 'SHED') {
      const retryAfterMs = fields.retryAfterMs ?? 0;
      this.retryAfterMs = retryAfterMs;
      this.rpcCode = ErrorCode.Overloaded;
      this.data = { retryAfterMs, priority: fields.priority };
    } else {
      const timeoutMs = fields.timeoutMs ?? 0;
      this.timeoutMs = timeoutMs;
      this.rpcCode = ErrorCode.RequestTimeout;
      this.data = { timeoutMs };
    }
  }

  /** A request shed under overload; `because` completes "shed because …". */
  static shed(priority: Priority, retryAfterMs: number, because: string): LimiterRejection {
    return withoutStack(
      () =>
        new LimiterRejection(
          'SHED',
          `Overloaded: this ${priority} request was shed because ${because}; retry after ${retryAfterMs} ms`,
          { priority, retryAfterMs },
        ),
    );
  }

  /** A request whose deadline passed while it was queued or running. */
  static timeout(priority: Priority, timeoutMs: number, phase: 'queued' | 'running'): LimiterRejection {
    return withoutStack(
      () =>
        new LimiterRejection(
          'TIMEOUT',
          `Request timed out after ${timeoutMs} ms while ${phase}; retry later or raise the timeout with _meta.timeoutMs`,
          { priority, timeoutMs },
        ),
    );
  }
}

/**
 * Builds an error without capturing a stack trace. Sheds and timeouts are outcomes, not bugs: under overload most
 * requests are shed, and the trace would cost more time and memory than the rest of shedding a request.
 */
function withoutStack<E extends Error>(build: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The error every request still waiting in the queue gets when the limiter closes. */
export function createClosedError(): OmnimindError {
  return new OmnimindError(
    'LIMITER_CLOSED',
    'The request limiter was closed before this request could run (the gateway is shutting down); retry once it is back',
  );
}

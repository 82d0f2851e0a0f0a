/** JSON-RPC and omnimind wire error codes (CONTRACT.md, "Errors on the wire"). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  RequestTimeout: -32001,
  Overloaded: -32010,
  ChildUnavailable: -32011,
  ChildCrashed: -32012,
  FrameTooLarge: -32013,
  /** MCP 2026-07-28: an HTTP header disagrees with the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`). */
  HeaderMismatch: -32020,
} as const;

/** One of the numeric codes above. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The string-coded error every omnimind module throws; the CLI maps it to an exit code. */
export class OmnimindError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmnimindError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

import { ErrorCode } from './errors.js';

/** A JSON-RPC request or notification id. */
export type JsonRpcId = string | number;

/** A JSON-RPC error object. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A request (with id) or a notification (without). */
export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id?: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

/** A response: exactly one of result or error. */
export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  result?: unknown;
  error?: JsonRpcErrorObject;
}

/** Any well-formed JSON-RPC message. */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcResponse;

/** The outcome of classifying one parsed frame. */
export type ClassifiedMessage =
  | { kind: 'request'; message: JsonRpcRequest & { id: JsonRpcId } }
  | { kind: 'notification'; message: JsonRpcRequest }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; id: JsonRpcId | null; reason: string };

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Sorts a parsed JSON value into request / notification / response, or says why it is not valid JSON-RPC. */
export function classifyMessage(value: unknown): ClassifiedMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', id: null, reason: 'a JSON-RPC message must be a JSON object' };
  }
  const msg = value as Record<string, unknown>;
  const id = isId(msg.id) ? msg.id : null;
  if (msg.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: 'jsonrpc must be "2.0"' };
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || msg.method === '') {
      return { kind: 'invalid', id, reason: 'method must be a non-empty string' };
    }
    if (
      msg.params !== undefined &&
      (msg.params === null || typeof msg.params !== 'object' || Array.isArray(msg.params))
    ) {
      return { kind: 'invalid', id, reason: 'params must be an object' };
    }
    if (msg.id === undefined) return { kind: 'notification', message: msg as unknown as JsonRpcRequest };
    if (!isId(msg.id)) return { kind: 'invalid', id: null, reason: 'id must be a string or a number' };
    return { kind: 'request', message: msg as unknown as JsonRpcRequest & { id: JsonRpcId } };
  }
  if ('result' in msg || 'error' in msg) {
    if (!isId(msg.id) && msg.id !== null)
      return { kind: 'invalid', id: null, reason: 'response id must be a string or a number' };
    return { kind: 'response', message: msg as unknown as JsonRpcResponse };
  }
  return { kind: 'invalid', id, reason: 'a message needs a method, a result or an error' };
}

/** Builds an error response. */
export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcResponse {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** Builds a success response. */
export function resultResponse(id: JsonRpcId | null, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result };
}

/** Parses one frame into a classified message; malformed JSON becomes an invalid message with the parse error code. */
export function parseFrame(frame: string): ClassifiedMessage | { kind: 'parse-error'; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (error) {
    return { kind: 'parse-error', reason: (error as Error).message };
  }
  return classifyMessage(value);
}

/** The error response for a frame that could not be used, or undefined when it is a usable message. */
export function rejectionFor(parsed: ReturnType<typeof parseFrame>): JsonRpcResponse | undefined {
  if (parsed.kind === 'parse-error') return errorResponse(null, ErrorCode.ParseError, `Parse error: ${parsed.reason}`);
  if (parsed.kind === 'invalid')
    return errorResponse(parsed.id, ErrorCode.InvalidRequest, `Invalid request: ${parsed.reason}`);
  return undefined;
}

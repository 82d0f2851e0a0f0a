import type { IncomingMessage } from 'node:http';

/** The stateless revision served on the same URLs as the session ones. */
export const MODERN_REVISION = '2026-07-28';
/** `_meta` keys of a 2026-07-28 request's envelope, and of a result's server info. */
export const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
export const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';

const BASE64_VALUE = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/;

/** The protocol version a message's `_meta` envelope claims, or undefined (a 2025-era message). */
export function envelopeVersion(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const meta = (body as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  const version = meta?.[PROTOCOL_VERSION_KEY];
  return typeof version === 'string' ? version : undefined;
}

/** The value of an `Mcp-Name` header, decoded from its `=?base64?…?=` form when it has one. */
function decodeHeaderValue(value: string): string {
  const match = BASE64_VALUE.exec(value);
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : value;
}

/**
 * Why a 2026-07-28 request's headers disagree with its body, or undefined when they agree: `MCP-Protocol-Version`
 * with the envelope, `Mcp-Method` with the method, `Mcp-Name` with the tool or prompt name or the resource URI.
 */
export function headerMismatch(
  request: IncomingMessage,
  version: string,
  method: string,
  params: Record<string, unknown> | undefined,
): string | undefined {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  if (header('mcp-protocol-version') !== version) {
    return `MCP-Protocol-Version "${header('mcp-protocol-version') ?? ''}" differs from the body's ${version}`;
  }
  if (header('mcp-method') !== method) {
    return `Mcp-Method "${header('mcp-method') ?? ''}" differs from the body's method "${method}"`;
  }
  const name =
    method === 'resources/read'
      ? params?.uri
      : method === 'tools/call' || method === 'prompts/get'
        ? params?.name
        : undefined;
  if (typeof name !== 'string') return undefined;
  const named = header('mcp-name');
  if (named === undefined || decodeHeaderValue(named) !== name) {
    return `Mcp-Name "${named ?? ''}" differs from the body's "${name}"`;
  }
  return undefined;
}

import type { IncomingMessage } from 'node:http';

const BASE64_VALUE = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/;

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

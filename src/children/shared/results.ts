import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** A tool result holding one text block. */
export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

/** A tool result holding a JSON value, pretty-printed as text and also as structured content. */
export function jsonResult(value: unknown, indent = 2): CallToolResult {
  const result: CallToolResult = { content: [{ type: 'text', text: JSON.stringify(value, null, indent) }] };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    result.structuredContent = value as Record<string, unknown>;
  }
  return result;
}

/** A tool error (isError: true) with a message that says what was wrong and what to do. */
export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Runs a tool body and turns any thrown error into a tool error instead of a protocol failure. */
export async function guardTool(body: () => CallToolResult | Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return toolError(error instanceof Error ? error.message : String(error));
  }
}

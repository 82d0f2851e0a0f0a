import type { ToolSummary } from './types.js';

/** Methods whose repetition changes nothing: safe to replay after a child restart. */
const SAFE_METHODS = new Set([
  'ping',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
]);

/** Whether a request may be sent again to a restarted child: list/read methods, and tools annotated read-only or idempotent. */
export function isReplayable(
  method: string,
  params: Record<string, unknown> | undefined,
  tools: ToolSummary[],
): boolean {
  if (SAFE_METHODS.has(method)) return true;
  if (method !== 'tools/call') return false;
  const name = params?.name;
  const tool = tools.find((t) => t.name === name);
  return tool?.annotations?.readOnlyHint === true || tool?.annotations?.idempotentHint === true;
}

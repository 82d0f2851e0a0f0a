/** The compressor, loaded on first use: its token tables cost start-up time and memory a gateway may never need. */
let compressor: Promise<typeof import('../compress/index.js')> | undefined;

/** A child's `compress` config: a token budget for text results, overall and per tool. */
export interface CompressionPolicy {
  maxResultTokens?: number;
  tools?: Record<string, { maxResultTokens: number }>;
}

/** The `_meta` key that marks a result the gateway compressed. */
export const COMPRESSED_META_KEY = 'omnimind/compressed';

/** The token budget for a request's result, or undefined when its results pass unchanged. */
export function resultBudget(
  policy: CompressionPolicy | undefined,
  method: string,
  params: Record<string, unknown> | undefined,
): number | undefined {
  if (!policy || method !== 'tools/call') return undefined;
  const tool = typeof params?.name === 'string' ? policy.tools?.[params.name] : undefined;
  return tool?.maxResultTokens ?? policy.maxResultTokens;
}

interface ToolResult {
  content?: Array<{ type: string; text?: string }>;
  _meta?: Record<string, unknown>;
}

/**
 * Compresses the text blocks of a tool result (its JSON) to `budget` tokens in all, keeping every critical span,
 * and marks it in `_meta`. A result within budget is returned as it was, at the cost of one length check.
 */
export async function compressResultJson(json: string, budget: number): Promise<string> {
  // Every o200k token covers at least one character: a JSON text this short cannot exceed the budget.
  if (json.length <= budget) return json;
  compressor ??= import('../compress/index.js');
  const { compress, countTokens } = await compressor;
  const result = JSON.parse(json) as ToolResult;
  const blocks = (result.content ?? []).filter(
    (b): b is { type: 'text'; text: string } => b.type === 'text' && typeof b.text === 'string',
  );
  const sizes = blocks.map((b) => countTokens(b.text));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= budget) return json;
  let tokensOut = 0;
  let overflow = false;
  blocks.forEach((block, i) => {
    const share = Math.max(1, Math.floor((budget * (sizes[i] ?? 0)) / total));
    const compressed = compress(block.text, { targetTokens: share });
    block.text = compressed.output;
    tokensOut += compressed.tokensOut;
    overflow ||= compressed.overflow;
  });
  result._meta = { ...result._meta, [COMPRESSED_META_KEY]: { tokensIn: total, tokensOut, budget, overflow } };
  return JSON.stringify(result);
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type ChatMessage, compress } from '../../compress/index.js';
import { guardTool, jsonResult } from '../shared/index.js';
import { CONTEXT_LEVELS, type ContextLevel, type ContextStore } from './context-store.js';
import { boundedString, MAX_CONTENT_CHARS, MAX_QUERY_CHARS, MAX_RESULTS } from './limits.js';
import { levelSchema } from './schemas.js';

/** The default budget of get_compressed_context: a quarter of a 100k-token context. */
const DEFAULT_TARGET_TOKENS = 25_000;
/** The largest budget accepted: beyond this, compression is not what the caller needs. */
const MAX_TARGET_TOKENS = 1_000_000;

const targetTokens = (defaultValue?: number) => {
  const schema = z.number().int().min(1).max(MAX_TARGET_TOKENS);
  return defaultValue === undefined ? schema : schema.default(defaultValue);
};

const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Registers get_compressed_context and compress_text, both on the context compressor. */
export function registerCompressTools(server: McpServer, store: ContextStore): void {
  server.registerTool(
    'get_compressed_context',
    {
      title: 'Get Compressed Context',
      description:
        'The stored contexts of some levels (all by default), oldest first, compressed to a token budget. Error lines, ' +
        'stack traces, code, identifiers, numbers with units, decisions and TODOs, and each context header are kept verbatim.',
      inputSchema: {
        levels: z.array(levelSchema).max(CONTEXT_LEVELS.length).optional().describe('Levels to include (default: all)'),
        query: boundedString('query', MAX_QUERY_CHARS).optional().describe('Favour contexts and lines about this'),
        target_tokens: targetTokens(DEFAULT_TARGET_TOKENS).describe('Token budget of the result (o200k tokens)'),
        preserve_critical: z.boolean().default(true).describe('Keep every critical span even past the budget'),
      },
      annotations: readOnly,
    },
    ({ levels, query, target_tokens, preserve_critical }) =>
      guardTool(() => {
        const wanted: ContextLevel[] = levels && levels.length > 0 ? levels : [...CONTEXT_LEVELS];
        const contexts = wanted
          .flatMap((level) => store.retrieve({ level, limit: MAX_RESULTS }))
          .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
        const messages: ChatMessage[] = contexts.map((c) => ({
          role: c.level,
          name: c.id,
          timestamp: c.createdAt,
          content: c.content,
        }));
        if (messages.length === 0) return jsonResult({ output: '', contexts: 0, tokensIn: 0, tokensOut: 0 });
        const result = compress(messages, {
          targetTokens: target_tokens,
          preserveCritical: preserve_critical,
          ...(query ? { query } : {}),
        });
        return jsonResult({ ...result, contexts: messages.length });
      }),
  );

  server.registerTool(
    'compress_text',
    {
      title: 'Compress Text',
      description:
        'Compress a text to a token budget, keeping every critical span (errors, code, identifiers, numbers) verbatim',
      inputSchema: {
        text: boundedString('text', MAX_CONTENT_CHARS).describe('The text to compress'),
        target_tokens: targetTokens().describe('Token budget of the result (o200k tokens)'),
      },
      annotations: readOnly,
    },
    ({ text, target_tokens }) => guardTool(() => jsonResult(compress(text, { targetTokens: target_tokens }))),
  );
}

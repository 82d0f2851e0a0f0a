import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardTool, jsonResult, toolError } from '../shared/index.js';
import type { ContextStore } from './context-store.js';
import { boundedString, MAX_CONTENT_CHARS, MAX_QUERY_CHARS } from './limits.js';
import { levelSchema, limitSchema, metadataSchema } from './schemas.js';

/** Contexts retrieve_context returns when no limit is given. */
const DEFAULT_RETRIEVE_LIMIT = 10;
/** Contexts list_contexts returns when no limit is given. */
const DEFAULT_LIST_LIMIT = 100;

/** Registers store_context, retrieve_context, list_contexts and delete_context. */
export function registerContextTools(server: McpServer, store: ContextStore): void {
  server.registerTool(
    'store_context',
    {
      title: 'Store Context',
      description:
        'Store a piece of context under a level. Levels other than ephemeral are kept on disk across restarts; ' +
        'ephemeral contexts live in memory only and the oldest are dropped beyond 10,000. Returns the new id.',
      inputSchema: {
        level: levelSchema,
        content: boundedString('content', MAX_CONTENT_CHARS).describe('The context text'),
        metadata: metadataSchema.optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ level, content, metadata }) =>
      guardTool(() => {
        // The content is not echoed back: the caller has it, and it may be large.
        const { id, createdAt } = store.store(level, content, metadata);
        return jsonResult({ id, level, createdAt, chars: content.length });
      }),
  );

  server.registerTool(
    'retrieve_context',
    {
      title: 'Retrieve Context',
      description:
        'Retrieve stored contexts. With a query: contexts containing any of its words (stemmed, case- and ' +
        'accent-insensitive), best bm25 match first. Without: the newest first. Optionally only one level.',
      inputSchema: {
        level: levelSchema.optional(),
        query: boundedString('query', MAX_QUERY_CHARS).optional().describe('Words to search for'),
        limit: limitSchema(DEFAULT_RETRIEVE_LIMIT),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ level, query, limit }) =>
      guardTool(() =>
        jsonResult({ contexts: store.retrieve({ level, query, limit: limit ?? DEFAULT_RETRIEVE_LIMIT }) }),
      ),
  );

  server.registerTool(
    'list_contexts',
    {
      title: 'List Contexts',
      description:
        'List stored contexts newest first, with a preview of each, the number per level, and the total matching',
      inputSchema: {
        level: levelSchema.optional(),
        limit: limitSchema(DEFAULT_LIST_LIMIT),
        offset: z.number().int().min(0).optional().describe('Contexts to skip (default 0)'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ level, limit, offset }) =>
      guardTool(() => jsonResult(store.list({ level, limit: limit ?? DEFAULT_LIST_LIMIT, offset: offset ?? 0 }))),
  );

  server.registerTool(
    'delete_context',
    {
      title: 'Delete Context',
      description: 'Delete one stored context by its id',
      inputSchema: { id: boundedString('id', MAX_QUERY_CHARS).describe('The id store_context returned') },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ id }) =>
      guardTool(() =>
        store.delete(id)
          ? jsonResult({ id, deleted: true })
          : toolError(`No context with id \`${id}\`: list_contexts shows the stored ids`),
      ),
  );
}

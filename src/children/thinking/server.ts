import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardTool, jsonResult, textResult, toolError } from '../shared/index.js';
import { SEQUENTIAL_THINKING_DESCRIPTION } from './description.js';
import { boundedString, MAX_ID_CHARS, MAX_PAGE_SIZE, MAX_THOUGHT_CHARS } from './limits.js';
import { renderSessionMarkdown } from './markdown.js';
import type { SessionStore } from './session-store.js';

/** The version this server reports in `initialize`. */
export const THINKING_SERVER_VERSION = '0.1.0';

/** The reference server's tool name, kept so existing prompts and clients work unchanged. */
export const SEQUENTIAL_THINKING_TOOL = 'sequentialthinking';

/** Sessions one list_sessions page returns when no limit is given. */
const DEFAULT_PAGE_SIZE = 50;

/** Accepts a boolean or the strings "true"/"false" (any case), as the reference server does. */
const coercedBoolean = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  if (value.toLowerCase() === 'true') return true;
  if (value.toLowerCase() === 'false') return false;
  ctx.addIssue({ code: 'custom', message: `Expected boolean or "true"/"false" string, received "${value}"` });
  return z.NEVER;
});

const positiveInt = () => z.coerce.number().int().min(1);
const sessionId = () => boundedString('sessionId', MAX_ID_CHARS).min(1, 'sessionId is empty');

const NOT_READ_ONLY = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const DELETE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false } as const;

function unknownSession(id: string): string {
  return `No thinking session \`${id}\`: list_sessions shows the stored sessions`;
}

/** Builds the thinking MCP server: the reference sequentialthinking tool plus session browsing, over `store`. */
export function createThinkingServer(store: SessionStore): McpServer {
  const server = new McpServer({ name: 'omnimind-thinking', version: THINKING_SERVER_VERSION });
  const optionalSession = sessionId()
    .optional()
    .describe(`Session id; omitted: this server run's session (${store.currentSessionId})`);

  server.registerTool(
    SEQUENTIAL_THINKING_TOOL,
    {
      title: 'Sequential Thinking',
      description: SEQUENTIAL_THINKING_DESCRIPTION,
      inputSchema: {
        thought: boundedString('thought', MAX_THOUGHT_CHARS).describe('Your current thinking step'),
        nextThoughtNeeded: coercedBoolean.describe('Whether another thought step is needed'),
        thoughtNumber: positiveInt().describe('Current thought number (numeric value, e.g., 1, 2, 3)'),
        totalThoughts: positiveInt().describe('Estimated total thoughts needed (numeric value, e.g., 5, 10)'),
        isRevision: coercedBoolean.optional().describe('Whether this revises previous thinking'),
        revisesThought: positiveInt().optional().describe('Which thought is being reconsidered'),
        branchFromThought: positiveInt().optional().describe('Branching point thought number'),
        branchId: boundedString('branchId', MAX_ID_CHARS).optional().describe('Branch identifier'),
        needsMoreThoughts: coercedBoolean.optional().describe('If more thoughts are needed'),
        sessionId: sessionId()
          .optional()
          .describe("Session to record the thought in; omitted: this server run's session"),
      },
      outputSchema: {
        thoughtNumber: z.number(),
        totalThoughts: z.number(),
        nextThoughtNeeded: z.boolean(),
        branches: z.array(z.string()),
        thoughtHistoryLength: z.number(),
      },
      annotations: NOT_READ_ONLY,
    },
    ({ sessionId: id, ...thought }) =>
      guardTool(() => {
        const receipt = store.addThought(thought, id);
        return { ...textResult(JSON.stringify(receipt, null, 2)), structuredContent: { ...receipt } };
      }),
  );

  server.registerTool(
    'list_sessions',
    {
      title: 'List Thinking Sessions',
      description: 'List stored thinking sessions, most recently updated first, with their thought counts and branches',
      inputSchema: {
        limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`Sessions per page (default 50)`),
        offset: z.number().int().min(0).optional().describe('Sessions to skip (default 0)'),
      },
      annotations: READ,
    },
    ({ limit, offset }) => guardTool(() => jsonResult(store.listSessions(limit ?? DEFAULT_PAGE_SIZE, offset ?? 0))),
  );

  server.registerTool(
    'get_session',
    {
      title: 'Get Thinking Session',
      description: 'Return every thought of a thinking session in order, with its branches',
      inputSchema: { sessionId: optionalSession },
      annotations: READ,
    },
    ({ sessionId: id }) =>
      guardTool(() => {
        const session = store.getSession(id);
        return session ? jsonResult(session) : toolError(unknownSession(id ?? store.currentSessionId));
      }),
  );

  server.registerTool(
    'export_session',
    {
      title: 'Export Thinking Session',
      description: 'Export a thinking session as a markdown document (default) or as JSON',
      inputSchema: {
        sessionId: optionalSession,
        format: z.enum(['markdown', 'json']).optional().describe('markdown (default) or json'),
      },
      annotations: READ,
    },
    ({ sessionId: id, format }) =>
      guardTool(() => {
        const session = store.getSession(id);
        if (!session) return toolError(unknownSession(id ?? store.currentSessionId));
        return format === 'json' ? jsonResult(session) : textResult(renderSessionMarkdown(session));
      }),
  );

  server.registerTool(
    'branches',
    {
      title: 'Thinking Branches',
      description: 'List the branches of a thinking session: where each left the main line and its thoughts',
      inputSchema: {
        sessionId: optionalSession,
        branchId: boundedString('branchId', MAX_ID_CHARS).optional().describe('Only this branch'),
      },
      annotations: READ,
    },
    ({ sessionId: id, branchId }) =>
      guardTool(() => {
        const sessionKey = id ?? store.currentSessionId;
        const branches = store.getBranches(sessionKey, branchId);
        if (!branches) return toolError(unknownSession(sessionKey));
        if (branchId !== undefined && branches.length === 0) {
          return toolError(`Session \`${sessionKey}\` has no branch \`${branchId}\`: call branches without branchId`);
        }
        return jsonResult({ sessionId: sessionKey, branches });
      }),
  );

  server.registerTool(
    'delete_session',
    {
      title: 'Delete Thinking Session',
      description: 'Delete a stored thinking session and all its thoughts',
      inputSchema: { sessionId: sessionId().describe('The session to delete') },
      annotations: DELETE,
    },
    ({ sessionId: id }) =>
      guardTool(() =>
        store.deleteSession(id) ? jsonResult({ sessionId: id, deleted: true }) : toolError(unknownSession(id)),
      ),
  );

  return server;
}

import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { guardTool, toolError } from '../shared/index.js';
import type { AllowedRoots } from './allowed-roots.js';

/** What every filesystem tool handler works with. */
export interface FilesystemContext {
  roots: AllowedRoots;
  /** Clock of the directory walks' time budget (ms). */
  now: () => number;
  /** Time one tool call may take (ms). */
  toolTimeoutMs: number;
}

/** Annotations of tools that only read: the gateway may cache their results. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** The output schema of every text tool: the text again as `{content}`, as the reference server declares. */
export const TEXT_OUTPUT = { content: z.string() };

/** A text result that also carries the text as structured content (`{content: text}`). */
export function textOutput(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: { content: text } };
}

/** What a tool handler receives about its request; only the `_meta` of the request is used. */
export interface RequestInfo {
  _meta?: Record<string, unknown>;
}

/**
 * Runs a tool body with the roots of its request (see {@link AllowedRoots.forRequest}), as a tool error on any
 * failure and on overrunning the call timeout, so a bad argument or a stuck file system answers the client instead
 * of crashing the child or leaving the request hanging.
 */
export async function runTool(
  name: string,
  context: FilesystemContext,
  request: RequestInfo,
  body: (roots: readonly string[]) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  let timer: NodeJS.Timeout | undefined;
  // A plain timer, cleared once the body settles: cheaper per call than an aborted timers/promises delay.
  const timeout = new Promise<CallToolResult>((resolve) => {
    timer = setTimeout(
      () =>
        resolve(
          toolError(
            `${name} did not finish within ${context.toolTimeoutMs / 1000} s; the file system may be slow or the request too large`,
          ),
        ),
      context.toolTimeoutMs,
    );
  });
  try {
    return await Promise.race([guardTool(async () => body(await context.roots.forRequest(request._meta))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

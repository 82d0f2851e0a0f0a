import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { guardTool, jsonResult, toolError } from '../shared/index.js';
import type { ContextStore } from './context-store.js';
import { boundedString, MAX_QUERY_CHARS } from './limits.js';
import { snapshotRefSchema } from './schemas.js';

/** Registers snapshot_context, restore_context, list_snapshots and delete_snapshot. */
export function registerSnapshotTools(server: McpServer, store: ContextStore): void {
  server.registerTool(
    'snapshot_context',
    {
      title: 'Snapshot Context',
      description: 'Save a copy of every stored context except ephemeral ones, to restore later',
      inputSchema: {
        name: boundedString('name', MAX_QUERY_CHARS)
          .min(1, 'name is empty')
          .optional()
          .describe('A unique name for the snapshot (default: snapshot-<time>)'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ name }) => guardTool(() => jsonResult(store.snapshot(name))),
  );

  server.registerTool(
    'restore_context',
    {
      title: 'Restore Context',
      description: 'Replace every stored context except ephemeral ones with those saved in a snapshot (by id or name)',
      inputSchema: { snapshot: snapshotRefSchema },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ snapshot }) => guardTool(() => jsonResult(store.restore(snapshot))),
  );

  server.registerTool(
    'list_snapshots',
    {
      title: 'List Snapshots',
      description: 'List saved context snapshots, newest first',
      inputSchema: {},
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    () => guardTool(() => jsonResult({ snapshots: store.listSnapshots() })),
  );

  server.registerTool(
    'delete_snapshot',
    {
      title: 'Delete Snapshot',
      description: 'Delete a saved context snapshot (by id or name); stored contexts are not touched',
      inputSchema: { snapshot: snapshotRefSchema },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ snapshot }) =>
      guardTool(() =>
        store.deleteSnapshot(snapshot)
          ? jsonResult({ snapshot, deleted: true })
          : toolError(`No snapshot with id or name \`${snapshot}\`: list_snapshots shows them`),
      ),
  );
}

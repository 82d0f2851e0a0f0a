import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { acceptResourceSubscriptions, guardTool } from '../shared/index.js';
import type { GraphStore } from './graph-store.js';
import { boundedArray, boundedString } from './limits.js';

/** The version this server reports in `initialize`. */
export const MEMORY_SERVER_VERSION = '0.1.0';

/** The resource holding the whole graph as JSON. */
export const KNOWLEDGE_GRAPH_URI = 'memory://knowledge-graph';

const EntitySchema = z.object({
  name: boundedString('name').describe('The name of the entity'),
  entityType: boundedString('entityType').describe('The type of the entity'),
  observations: boundedArray(boundedString('observation'), 'observations').describe(
    'An array of observation contents associated with the entity',
  ),
});

const RelationSchema = z.object({
  from: boundedString('from').describe('The name of the entity where the relation starts'),
  to: boundedString('to').describe('The name of the entity where the relation ends'),
  relationType: boundedString('relationType').describe('The type of the relation'),
});

// Results are described without the argument limits: an imported graph may hold longer strings.
const EntityOutput = z.object({ name: z.string(), entityType: z.string(), observations: z.array(z.string()) });
const RelationOutput = z.object({ from: z.string(), to: z.string(), relationType: z.string() });
const GraphOutput = { entities: z.array(EntityOutput), relations: z.array(RelationOutput) };
const DeleteOutput = { success: z.boolean(), message: z.string() };

const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } as const;
const DELETE = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false } as const;
const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

/** A result whose text is the pretty JSON of `value` and whose structured content is `structured`. */
function structured(value: unknown, structuredContent: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent };
}

/** The fixed result of a successful delete, as the reference server words it. */
function deleted(what: string): CallToolResult {
  const message = `${what} deleted successfully`;
  return { content: [{ type: 'text', text: message }], structuredContent: { success: true, message } };
}

/** Builds the memory MCP server: the reference server's nine tools and its graph resource, over `store`. */
export function createMemoryServer(store: GraphStore): McpServer {
  const server = new McpServer({ name: 'omnimind-memory', version: MEMORY_SERVER_VERSION });
  const subscribers = acceptResourceSubscriptions(server);
  const notifyChanged = () => {
    if (subscribers.has(KNOWLEDGE_GRAPH_URI)) void server.server.sendResourceUpdated({ uri: KNOWLEDGE_GRAPH_URI });
  };

  server.registerTool(
    'create_entities',
    {
      title: 'Create Entities',
      description: 'Create multiple new entities in the knowledge graph',
      inputSchema: { entities: boundedArray(EntitySchema, 'entities') },
      outputSchema: { entities: z.array(EntityOutput) },
      annotations: WRITE,
    },
    ({ entities }) =>
      guardTool(() => {
        const created = store.createEntities(entities);
        notifyChanged();
        return structured(created, { entities: created });
      }),
  );

  server.registerTool(
    'create_relations',
    {
      title: 'Create Relations',
      description:
        'Create multiple new relations between entities in the knowledge graph. Relations should be in active voice',
      inputSchema: { relations: boundedArray(RelationSchema, 'relations') },
      outputSchema: { relations: z.array(RelationOutput) },
      annotations: WRITE,
    },
    ({ relations }) =>
      guardTool(() => {
        const created = store.createRelations(relations);
        notifyChanged();
        return structured(created, { relations: created });
      }),
  );

  server.registerTool(
    'add_observations',
    {
      title: 'Add Observations',
      description: 'Add new observations to existing entities in the knowledge graph',
      inputSchema: {
        observations: boundedArray(
          z.object({
            entityName: boundedString('entityName').describe('The name of the entity to add the observations to'),
            contents: boundedArray(boundedString('observation'), 'contents').describe(
              'An array of observation contents to add',
            ),
          }),
          'observations',
        ),
      },
      outputSchema: {
        results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })),
      },
      annotations: WRITE,
    },
    ({ observations }) =>
      guardTool(() => {
        const results = store.addObservations(observations);
        notifyChanged();
        return structured(results, { results });
      }),
  );

  server.registerTool(
    'delete_entities',
    {
      title: 'Delete Entities',
      description: 'Delete multiple entities and their associated relations from the knowledge graph',
      inputSchema: {
        entityNames: boundedArray(boundedString('entity name'), 'entityNames').describe(
          'An array of entity names to delete',
        ),
      },
      outputSchema: DeleteOutput,
      annotations: DELETE,
    },
    ({ entityNames }) =>
      guardTool(() => {
        store.deleteEntities(entityNames);
        notifyChanged();
        return deleted('Entities');
      }),
  );

  server.registerTool(
    'delete_observations',
    {
      title: 'Delete Observations',
      description: 'Delete specific observations from entities in the knowledge graph',
      inputSchema: {
        deletions: boundedArray(
          z.object({
            entityName: boundedString('entityName').describe('The name of the entity containing the observations'),
            observations: boundedArray(boundedString('observation'), 'observations').describe(
              'An array of observations to delete',
            ),
          }),
          'deletions',
        ),
      },
      outputSchema: DeleteOutput,
      annotations: DELETE,
    },
    ({ deletions }) =>
      guardTool(() => {
        store.deleteObservations(deletions);
        notifyChanged();
        return deleted('Observations');
      }),
  );

  server.registerTool(
    'delete_relations',
    {
      title: 'Delete Relations',
      description: 'Delete multiple relations from the knowledge graph',
      inputSchema: {
        relations: boundedArray(RelationSchema, 'relations').describe('An array of relations to delete'),
      },
      outputSchema: DeleteOutput,
      annotations: DELETE,
    },
    ({ relations }) =>
      guardTool(() => {
        store.deleteRelations(relations);
        notifyChanged();
        return deleted('Relations');
      }),
  );

  server.registerTool(
    'read_graph',
    {
      title: 'Read Graph',
      description: 'Read the entire knowledge graph',
      inputSchema: {},
      outputSchema: GraphOutput,
      annotations: READ,
    },
    () =>
      guardTool(() => {
        const graph = store.readGraph();
        return structured(graph, { ...graph });
      }),
  );

  server.registerTool(
    'search_nodes',
    {
      title: 'Search Nodes',
      description:
        'Search for nodes in the knowledge graph based on a query (case-insensitive substring of names, types and ' +
        'observations; best matches first)',
      inputSchema: {
        query: boundedString('query').describe(
          'The search query to match against entity names, types, and observation content',
        ),
      },
      outputSchema: GraphOutput,
      annotations: READ,
    },
    ({ query }) =>
      guardTool(() => {
        const graph = store.searchNodes(query);
        return structured(graph, { ...graph });
      }),
  );

  server.registerTool(
    'open_nodes',
    {
      title: 'Open Nodes',
      description: 'Open specific nodes in the knowledge graph by their names',
      inputSchema: {
        names: boundedArray(boundedString('name'), 'names').describe('An array of entity names to retrieve'),
      },
      outputSchema: GraphOutput,
      annotations: READ,
    },
    ({ names }) =>
      guardTool(() => {
        const graph = store.openNodes(names);
        return structured(graph, { ...graph });
      }),
  );

  server.registerResource(
    'knowledge-graph',
    KNOWLEDGE_GRAPH_URI,
    {
      title: 'Knowledge Graph',
      description: 'The full knowledge graph with all entities and relations',
      mimeType: 'application/json',
    },
    (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(store.readGraph(), null, 2) }],
    }),
  );
  return server;
}

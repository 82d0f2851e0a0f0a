export {
  type AddedObservations,
  type Entity,
  ensureGraphSchema,
  GraphStore,
  type KnowledgeGraph,
  type Relation,
} from './graph-store.js';
export { exportJsonl, importJsonl, MEMORY_DB_FILE, runMemoryTransfer, type TransferCounts } from './jsonl.js';
export { boundedArray, boundedString, isWellFormedText, MAX_ARRAY_ITEMS, MAX_STRING_CHARS } from './limits.js';
export { createMemoryServer, KNOWLEDGE_GRAPH_URI, MEMORY_SERVER_VERSION } from './server.js';

export {
  CONTEXT_DB_FILE,
  CONTEXT_LEVELS,
  type ContextLevel,
  ContextStore,
  type ContextStoreOptions,
  type ContextSummary,
  type Snapshot,
  type StoredContext,
  toFtsQuery,
} from './context-store.js';
export { registerContextTools } from './context-tools.js';
export {
  boundedString,
  isWellFormedText,
  MAX_CONTENT_CHARS,
  MAX_EPHEMERAL_CONTEXTS,
  MAX_METADATA_CHARS,
  MAX_QUERY_CHARS,
  MAX_RESULTS,
} from './limits.js';
export { levelSchema, limitSchema, metadataSchema, snapshotRefSchema } from './schemas.js';
export { CONTEXT_SERVER_VERSION, createContextServer } from './server.js';
export { registerSnapshotTools } from './snapshot-tools.js';

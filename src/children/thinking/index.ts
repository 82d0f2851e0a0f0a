export { SEQUENTIAL_THINKING_DESCRIPTION } from './description.js';
export { boundedString, MAX_ID_CHARS, MAX_PAGE_SIZE, MAX_THOUGHT_CHARS } from './limits.js';
export { renderSessionMarkdown } from './markdown.js';
export { createThinkingServer, SEQUENTIAL_THINKING_TOOL, THINKING_SERVER_VERSION } from './server.js';
export {
  type Branch,
  type SessionDetail,
  SessionStore,
  type SessionStoreOptions,
  type SessionSummary,
  type StoredThought,
  THINKING_DB_FILE,
  type ThoughtInput,
  type ThoughtReceipt,
} from './session-store.js';

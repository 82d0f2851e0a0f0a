export { compress } from './compress.js';
export { MAX_OPEN_FENCE_LINES } from './segment.js';
export { countTokens } from './tokens.js';
export type { ChatMessage, CompressOptions, CompressResult, CriticalKind, HeaderReport } from './types.js';

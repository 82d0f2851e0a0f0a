export { AdmissionLru, type AdmissionLruOptions, type SizedValue } from './admission-lru.js';
export { FrequencySketch } from './frequency-sketch.js';
export { deriveKey, MAX_PLAIN_KEY_LENGTH, stringifyCanonical, stringifyParams } from './key.js';
export { L2Store, type L2StoreOptions, MIN_L2_MAX_BYTES } from './l2-store.js';
export { type CacheLoader, type FetchOptions, ResponseCache } from './response-cache.js';
export type { CacheOptions, CacheOutcome, CacheStats, ChildCachePolicy, L2Stats, ToolInfo } from './types.js';

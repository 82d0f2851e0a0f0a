export { ChildGateway, type ChildGatewayOptions, waitForRunning } from './child-gateway.js';
export { ChildRouter, type RouteOutcome } from './child-router.js';
export { type ChildState, isDown } from './child-state.js';
export { ConnectionBudget, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS } from './connection-budget.js';
export { type ClientInstance, type InstanceLink, PerClientGateway } from './per-client-gateway.js';
export { COMPRESSED_META_KEY, type CompressionPolicy, compressResultJson, resultBudget } from './result-compression.js';
export { ClientSession, type SessionServices } from './session.js';
export type { ChildLink, RequestCache, RequestLimiter, ToolSummary } from './types.js';

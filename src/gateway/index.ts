export { ChildGateway, type ChildGatewayOptions, waitForRunning } from './child-gateway.js';
export { ChildRouter, type RouteOutcome } from './child-router.js';
export { ClientSession, type SessionServices } from './session.js';
export type { ChildLink, RequestCache, RequestLimiter, ToolSummary } from './types.js';

export { ChildEndpoint, waitForRunning } from './child-endpoint.js';
export { ChildGateway, type ChildGatewayOptions } from './child-gateway.js';
export { ChildRouter, type RouteOutcome } from './child-router.js';
export { type ChildState, isDown } from './child-state.js';
export {
  ConnectionBudget,
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  RETRY_CONNECT_MS,
} from './connection-budget.js';
export type { Endpoint, Member } from './endpoint.js';
export { EndpointServer } from './endpoint-server.js';
export { type ClientInstance, type InstanceLink, PerClientGateway } from './per-client-gateway.js';
export { ProfileEndpoint, type ProfileOptions } from './profile-endpoint.js';
export { ProfileGateway } from './profile-gateway.js';
export { namePattern, profileNames } from './profile-names.js';
export { COMPRESSED_META_KEY, type CompressionPolicy, compressResultJson, resultBudget } from './result-compression.js';
export { ClientSession, type SessionServices } from './session.js';
export type { ClientTransport, FrameContext, TransportHandlers } from './transport.js';
export { UnixSocketTransport } from './transports/unix-socket.js';
export type { ChildLink, RequestCache, RequestLimiter, RouterClient, ToolSummary } from './types.js';

import type { Priority } from '../limiter/index.js';
import type { Telemetry } from '../metrics/index.js';
import { ChildEndpoint } from './child-endpoint.js';
import { ChildRouter } from './child-router.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { Member } from './endpoint.js';
import { EndpointServer } from './endpoint-server.js';
import type { CompressionPolicy } from './result-compression.js';
import type { ChildLink, RequestCache, RequestLimiter } from './types.js';

/** Options of a ChildGateway. */
export interface ChildGatewayOptions {
  cache?: RequestCache;
  limiter?: RequestLimiter;
  /** Request counters, latency histograms and spans. */
  telemetry?: Telemetry;
  /** The supervisor-wide bound on connections and unfinished frames. */
  budget?: ConnectionBudget;
  maxFrameBytes: number;
  /** Default priorities per client name and per tool name. */
  priorities: { clients: Record<string, Priority>; tools: Record<string, Priority> };
  /** Token budgets for this child's text results. */
  compression?: CompressionPolicy;
  /** The child confines each request to the roots of the client that sent it. */
  honoursRoots?: boolean;
  /** The child's configured roots (file:// URIs): the answer to a `roots/list` no single client can be asked. */
  configuredRoots?: readonly string[];
}

/** One child's endpoint: accepts any number of MCP clients and routes them all to the child through one router. */
export class ChildGateway extends EndpointServer {
  readonly router: ChildRouter;
  /** The child as profiles and sessions reach it. */
  readonly member: Member;

  constructor(link: ChildLink, options: ChildGatewayOptions) {
    const router = new ChildRouter(link, {
      cache: options.cache,
      limiter: options.limiter,
      configuredRoots: options.configuredRoots,
    });
    const member: Member = {
      router,
      honoursRoots: options.honoursRoots === true,
      compression: options.compression,
      toolPriorities: options.priorities.tools,
    };
    super(
      new ChildEndpoint(member),
      {
        cache: options.cache,
        limiter: options.limiter,
        telemetry: options.telemetry,
        clientPriorities: options.priorities.clients,
      },
      options,
    );
    this.router = router;
    this.member = member;
  }
}

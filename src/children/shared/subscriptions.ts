import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** Lets clients subscribe to this server's resources; returns the subscribed URIs, for sending resources/updated. */
export function acceptResourceSubscriptions(server: McpServer): Set<string> {
  const subscribers = new Set<string>();
  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, (request) => {
    subscribers.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscribers.delete(request.params.uri);
    return {};
  });
  return subscribers;
}

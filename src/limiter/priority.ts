import { PRIORITY_RANK, type Priority } from './types.js';

/** Requests that keep a session alive or steer it: answered before any work, whatever the load. */
const CONTROL_METHODS = new Set(['initialize', 'ping', 'logging/setLevel']);

/** Reads a priority name case-insensitively; undefined when it is not one of the four. */
export function parsePriority(value: unknown): Priority | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return Object.hasOwn(PRIORITY_RANK, upper) ? (upper as Priority) : undefined;
}

/**
 * The priority of one request: `_meta.priority` (any case) wins; then control requests (`initialize`, `ping`,
 * `logging/setLevel`, notifications) are CRITICAL; then the tool's configured default, then the client's; else NORMAL.
 */
export function resolvePriority(
  meta: unknown,
  method: string,
  defaults: { client?: Priority; tool?: Priority },
): Priority {
  if (typeof meta === 'object' && meta !== null) {
    const requested = parsePriority((meta as Record<string, unknown>).priority);
    if (requested) return requested;
  }
  if (CONTROL_METHODS.has(method) || method.startsWith('notifications/')) return 'CRITICAL';
  return defaults.tool ?? defaults.client ?? 'NORMAL';
}

import { OmnimindError } from '../protocol/index.js';
import type { ChildCachePolicy, ToolInfo } from './types.js';

/** A tools/call that is neither cached nor a write: a trusted read-only tool that is not cacheable. */
export const PLAN_PASS = -1;

/** A tools/call that may change the child's state: it invalidates the child's cached results. */
export const PLAN_WRITE = -2;

/** A child's policy in the shape the hot path reads. */
export interface CompiledPolicy {
  trusted: boolean;
  ttlMs: number;
  /** Per-tool override: a time to live in ms (cache), or false (never cache). */
  overrides: Map<string, number | false>;
  stateful: Set<string>;
}

/** The annotations a child declared for each tool it listed. */
export type ToolAnnotations = Map<string, ToolInfo['annotations']>;

/** Throws the house error for a bad option value. */
function rejectOption(name: string, expected: string, value: unknown): never {
  throw new OmnimindError(
    'CACHE_OPTIONS_INVALID',
    `Expected \`${name}\` to be ${expected}, got \`${typeof value === 'string' ? value : JSON.stringify(value)}\``,
  );
}

/** Converts seconds to ms after checking they are a finite number >= 0. */
export function readTtlMs(name: string, seconds: unknown): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    rejectOption(name, 'a number >= 0', seconds);
  }
  return seconds * 1000;
}

/** Validates a child's policy and compiles it; the child's TTL defaults to `defaultTtlMs`. */
export function compilePolicy(child: string, policy: ChildCachePolicy, defaultTtlMs: number): CompiledPolicy {
  if (typeof policy?.trusted !== 'boolean') rejectOption(`${child}.trusted`, 'a boolean', policy?.trusted);
  const ttlMs =
    policy.ttlSeconds === undefined ? defaultTtlMs : readTtlMs(`${child}.cache.ttlSeconds`, policy.ttlSeconds);
  const overrides = new Map<string, number | false>();
  for (const [tool, setting] of Object.entries(policy.tools ?? {})) {
    const name = `${child}.cache.tools.${tool}`;
    if (setting === true) overrides.set(tool, ttlMs);
    else if (setting === false) overrides.set(tool, false);
    else if (typeof setting === 'object' && setting !== null) overrides.set(tool, readTtlMs(name, setting.ttlSeconds));
    else rejectOption(name, 'true, false or {ttlSeconds}', setting);
  }
  return { trusted: policy.trusted, ttlMs, overrides, stateful: new Set(policy.statefulTools ?? []) };
}

/**
 * Decides what a tools/call is: a time to live in ms > 0 (cache it), `PLAN_PASS` or `PLAN_WRITE`.
 * A tool the child has not listed is a write; an untrusted child's annotations are ignored, so its tools are
 * cached only when opted in and are writes otherwise.
 */
export function planToolCall(policy: CompiledPolicy, tools: ToolAnnotations | undefined, name: string): number {
  if (policy.stateful.has(name) || tools === undefined || !tools.has(name)) return PLAN_WRITE;
  const annotations = tools.get(name);
  const readOnly = policy.trusted && annotations?.readOnlyHint === true;
  const override = policy.overrides.get(name);
  if (override === false) return readOnly ? PLAN_PASS : PLAN_WRITE;
  if (override !== undefined) return override > 0 ? override : PLAN_PASS;
  if (!readOnly) return PLAN_WRITE;
  return annotations?.openWorldHint === false && policy.ttlMs > 0 ? policy.ttlMs : PLAN_PASS;
}

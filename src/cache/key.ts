import { hash } from 'node:crypto';

/**
 * Canonical keys up to this many UTF-16 units are used as they are; longer ones are replaced by their SHA-1 digest.
 * bench/cache.ts measures both: below this length hashing adds more than it saves, above it a digest keeps L1's
 * key memory and Map comparisons small.
 */
export const MAX_PLAIN_KEY_LENGTH = 512;

/** Serialises a JSON value with object keys sorted, so equal values always give the same text. */
export function stringifyCanonical(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : String(JSON.stringify(value));
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) text += ',';
      text += stringifyCanonical(value[i]);
    }
    return `${text}]`;
  }
  return stringifyObject(value as Record<string, unknown>, false);
}

/** Serialises an object with sorted keys; `skipMeta` leaves out a top-level `_meta` (progress tokens, tracing). */
function stringifyObject(object: Record<string, unknown>, skipMeta: boolean): string {
  const keys = Object.keys(object).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || (skipMeta && key === '_meta')) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${stringifyCanonical(member)}`;
    first = false;
  }
  return `${text}}`;
}

/** Canonical text of a request's params: sorted keys, `_meta` excluded. */
export function stringifyParams(params: Record<string, unknown> | undefined): string {
  return params === undefined ? '{}' : stringifyObject(params, true);
}

/**
 * The cache key of one request. Plain keys start with the child's name, digests with a NUL, so the two never collide.
 * `scope` holds what else changes the answer for this client (its MCP roots, for a child that honours them).
 */
export function deriveKey(
  child: string,
  method: string,
  params: Record<string, unknown> | undefined,
  scope = '',
): string {
  const plain = `${child}\u0000${scope}\u0000${method}\u0000${stringifyParams(params)}`;
  return plain.length <= MAX_PLAIN_KEY_LENGTH ? plain : `\u0000${hash('sha1', plain, 'base64')}`;
}

/** A 53-bit integer digest of a key: the indexed column of L2 (the full key is stored beside it and compared). */
export function deriveRowHash(key: string): number {
  const digest = hash('sha1', key, 'buffer');
  return digest.readUIntBE(0, 6) * 32 + (digest[6]! >>> 3);
}

/** 32-bit FNV-1a of a string, for the frequency sketch. */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

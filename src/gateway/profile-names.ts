import { createHash } from 'node:crypto';

/** What MCP clients and model APIs accept as a tool or prompt name. */
const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_NAME_CHARS = 64;
/** Hex digits of the hash that keeps a shortened name unique (24 bits; a collision takes the next variant). */
const HASH_HEX = 6;

/** One tool or prompt of a profile's member. */
export interface MemberItem {
  child: string;
  name: string;
}

/**
 * The names a profile shows for its members' tools or prompts, in the same order: `<child>__<name>` when that is
 * valid, else a deterministic shortening (the valid prefix, `_` and 6 hex of a hash). Valid names are taken first,
 * so they never change because of another's shortening, and no two items ever share a name.
 */
export function profileNames(items: readonly MemberItem[]): string[] {
  const names = new Array<string>(items.length);
  const taken = new Set<string>();
  items.forEach(({ child, name }, i) => {
    const full = `${child}__${name}`;
    if (VALID_NAME.test(full) && !taken.has(full)) {
      names[i] = full;
      taken.add(full);
    }
  });
  items.forEach(({ child, name }, i) => {
    if (names[i] !== undefined) return;
    const full = `${child}__${name}`;
    const prefix = full.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME_CHARS - HASH_HEX - 1);
    for (let variant = 0; ; variant++) {
      const hash = createHash('sha256')
        .update(variant === 0 ? full : `${full}#${variant}`)
        .digest('hex')
        .slice(0, HASH_HEX);
      const candidate = `${prefix}_${hash}`;
      if (taken.has(candidate)) continue;
      names[i] = candidate;
      taken.add(candidate);
      return;
    }
  });
  return names;
}

/** A `tools.allow`/`tools.deny` pattern (`*` matches any run of characters) as a test. */
export function namePattern(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const escaped = patterns.map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'));
  const regex = new RegExp(`^(?:${escaped.join('|')})$`);
  return (name) => regex.test(name);
}

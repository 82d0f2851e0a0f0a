/** What a result says of its own caching (MCP 2026-07-28 `ttlMs`, `cacheScope`). */
export interface ResultHints {
  /** The shortest `ttlMs` found (0 for a malformed one); undefined when the result gives none. */
  ttlMs: number | undefined;
  /** Whether it is `cacheScope: "private"`: shared only within one credential. */
  private: boolean;
}

/** Hints of a result that carries none. */
const NO_HINTS: ResultHints = { ttlMs: undefined, private: false };

/** Each `"ttlMs": N` or `"cacheScope": "…"` member of a JSON text, at any depth. */
const HINT_PATTERN = /"(ttlMs|cacheScope)"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g;

/**
 * Reads the caching hints of a result's JSON text without parsing it. A hint nested deeper than the result's top level
 * counts too: it can only shorten the time to live or make the result private, never widen what may be cached.
 */
export function readHints(json: string): ResultHints {
  if (!json.includes('"ttlMs"') && !json.includes('"cacheScope"')) return NO_HINTS;
  let ttlMs: number | undefined;
  let isPrivate = false;
  for (const [, name, value] of json.matchAll(HINT_PATTERN)) {
    if (name === 'cacheScope') {
      if (value !== '"public"') isPrivate = true;
      continue;
    }
    const number = Number(value);
    const valid = Number.isFinite(number) && number >= 0 ? number : 0;
    ttlMs = ttlMs === undefined ? valid : Math.min(ttlMs, valid);
  }
  return { ttlMs, private: isPrivate };
}

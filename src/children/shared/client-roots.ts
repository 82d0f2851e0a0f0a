/** The `_meta` key that carries the requesting client's MCP roots to a built-in child, per request. */
export const CLIENT_ROOTS_META_KEY = 'omnimind/roots';

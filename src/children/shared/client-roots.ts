/** The `_meta` key under which the gateway passes each request's client roots (sorted `file://` URIs) to a child. */
export const CLIENT_ROOTS_META_KEY = 'omnimind/roots';

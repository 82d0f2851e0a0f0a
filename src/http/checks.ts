/** A listen address split into host (without brackets) and port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Splits `HOST:PORT` or `[V6]:PORT`. */
export function parseListen(listen: string): ListenAddress {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(colon + 1)) };
}

/** Whether a host name or address is this machine's loopback. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Whether a host is the wildcard address (every interface). */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** `host:port` as a Host header spells it (IPv6 in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`.toLowerCase();
}

/**
 * Whether a Host header names the listener (DNS rebinding): its own `host:port`, `localhost` and the loopback
 * addresses when it listens on loopback or every interface, or an `allowedHosts` entry (an entry without a port
 * allows any port: a proxy in front may use its own).
 */
export function hostAllowed(
  header: string | undefined,
  address: ListenAddress,
  allowedHosts: readonly string[],
): boolean {
  if (header === undefined) return false;
  const host = header.toLowerCase();
  if (host === hostPort(address.host, address.port)) return true;
  if (
    (isLoopback(address.host) || isWildcard(address.host)) &&
    ['localhost', '127.0.0.1', '::1'].some((h) => host === hostPort(h, address.port))
  ) {
    return true;
  }
  const name = host.replace(/:\d+$/, '');
  return allowedHosts.some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed === host || (!/:\d+$/.test(allowed) && allowed === name);
  });
}

/** Whether an Origin is the server's own (the scheme and the Host the request named) or listed. */
export function originAllowed(origin: string, ownOrigin: string, allowedOrigins: readonly string[]): boolean {
  const normal = origin.toLowerCase().replace(/\/$/, '');
  return (
    normal === ownOrigin.toLowerCase() || allowedOrigins.some((o) => o.toLowerCase().replace(/\/$/, '') === normal)
  );
}

/** Which answer forms an Accept header allows; `*\/*` and `application/*` count as JSON. */
export function acceptedForms(accept: string | undefined): { json: boolean; sse: boolean } {
  const types = (accept ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  return {
    json: types.some((t) => t === 'application/json' || t === 'application/*' || t === '*/*'),
    sse: types.includes('text/event-stream'),
  };
}

/** Whether a Content-Type header is JSON (parameters such as charset are allowed). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === 'application/json') return true;
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

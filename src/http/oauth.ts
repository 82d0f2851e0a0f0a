import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { HttpConfig } from '../config/index.js';
import { type Authenticator, bearerOf } from './auth.js';

/** Signature algorithms accepted: asymmetric only (never `none`, never a shared secret). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** How long fetched keys are trusted, and the least time between two fetches for an unknown `kid`. */
const KEYS_MAX_AGE_MS = 10 * 60_000;
const KEYS_COOLDOWN_MS = 5_000;
/** Clock skew tolerated on `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Where an issuer publishes its metadata (RFC 8414, then OpenID Connect Discovery). */
const METADATA_PATHS = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'];

type OAuthConfig = NonNullable<HttpConfig['oauth']>;

/** The JWKS URI from the issuer's metadata. */
async function discoverJwksUri(issuer: string): Promise<URL> {
  const base = issuer.replace(/\/$/, '');
  for (const path of METADATA_PATHS) {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (!response?.ok) continue;
    const metadata = (await response.json()) as { jwks_uri?: unknown };
    if (typeof metadata.jwks_uri === 'string') return new URL(metadata.jwks_uri);
  }
  throw new Error(`no jwks_uri in the metadata of ${issuer}`);
}

/** The scopes a token holds (`scope`, space-separated, or `scp`, a list). */
function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  return Array.isArray(payload.scp) ? payload.scp.filter((s): s is string => typeof s === 'string') : [];
}

/**
 * An OAuth 2.1 resource server: JWT access tokens verified against the issuer's JWKS (fetched once, cached, fetched
 * again on an unknown `kid`), for `iss`, `aud` (the resource, RFC 8707), `exp` and `nbf`; scopes map to endpoints
 * through `http.oauth.scopes` (without it, a valid token reaches every endpoint).
 */
export function oauthAuthenticator(config: OAuthConfig, resource: string): Authenticator {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const keySet = async () => {
    keys ??= createRemoteJWKSet(config.jwksUri ? new URL(config.jwksUri) : await discoverJwksUri(config.issuer), {
      cacheMaxAge: KEYS_MAX_AGE_MS,
      cooldownDuration: KEYS_COOLDOWN_MS,
    });
    return keys;
  };
  return async (authorization) => {
    const token = bearerOf(authorization);
    if (token === undefined) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        issuer: config.issuer,
        audience: config.audience ?? resource,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch {
      return undefined;
    }
    const subject = payload.sub ?? 'unknown';
    if (config.scopes === undefined) return { id: `oauth:${subject}`, endpoints: undefined };
    const held = scopesOf(payload);
    const endpoints = [...new Set(held.flatMap((scope) => config.scopes?.[scope] ?? []))];
    return { id: `oauth:${subject}`, endpoints };
  };
}

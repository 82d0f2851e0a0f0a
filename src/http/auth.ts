import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord } from '../supervisor/state-db.js';

/** Who made a request, and which endpoints it may reach. */
export interface Credential {
  /** `token:<name>`, `oauth:<subject>` or `anonymous`: sessions belong to it and are counted per it. */
  id: string;
  /** The endpoints it may reach; undefined: every endpoint. */
  endpoints: readonly string[] | undefined;
}

/** Turns a request's `Authorization` header into a credential, or undefined when it proves nothing. */
export type Authenticator = (authorization: string | undefined) => Promise<Credential | undefined>;

/**
 * The right to read the fleet (`GET /metrics`, the dashboard's reads), kept in a token's endpoints list as a value no
 * endpoint name can take.
 */
export const METRICS_RIGHT = ':metrics';

/** Whether a credential may read the fleet: it holds the metrics right or may use every endpoint. */
export function canObserve(credential: Credential): boolean {
  return credential.endpoints === undefined || credential.endpoints.includes(METRICS_RIGHT);
}

/** The prefix of every token, so that a leaked one is recognisable (secret scanners, logs). */
const TOKEN_PREFIX = 'omm_';

/** A new token: 256 random bits, and the hex SHA-256 that is all the state db keeps of it. */
export function newToken(): { secret: string; hash: string } {
  const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashToken(secret) };
}

/** The hex SHA-256 of a token's secret. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerOf(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Tokens remembered between requests; beyond this many the memory starts afresh (a spray of bad tokens is never kept). */
const TOKEN_CACHE_ENTRIES = 1024;

/**
 * Checks bearer tokens against the state db: by the hash of the secret, compared again in constant time, refused
 * after its expiry. A token found is remembered until the db changes (`version`: a revocation by any process shows
 * at once), so a request pays a hash and a version check, not a query.
 */
export function tokenAuthenticator(
  find: (hash: string) => TokenRecord | undefined,
  version: () => number = () => Number.NaN,
): Authenticator {
  const known = new Map<string, { credential: Credential; expiresAtMs: number }>();
  let knownVersion = Number.NaN;
  return async (authorization) => {
    const secret = bearerOf(authorization);
    if (secret === undefined) return undefined;
    const hash = hashToken(secret);
    const now = version();
    if (now !== knownVersion) {
      known.clear();
      knownVersion = now;
    }
    let entry = known.get(hash);
    if (entry === undefined) {
      const record = find(hash);
      if (record === undefined) return undefined;
      if (!timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
      entry = {
        credential: {
          id: `token:${record.name}`,
          endpoints: record.endpoints.length === 0 ? undefined : record.endpoints,
        },
        expiresAtMs: record.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt),
      };
      if (known.size >= TOKEN_CACHE_ENTRIES) known.clear();
      known.set(hash, entry);
    }
    return entry.expiresAtMs <= Date.now() ? undefined : entry.credential;
  };
}

/** `http.auth = "none"`: everyone is the same anonymous credential (allowed on loopback only). */
export const anonymous: Authenticator = async () => ({ id: 'anonymous', endpoints: undefined });

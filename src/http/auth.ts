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

/**
 * Checks bearer tokens against the state db on every request (a revoked token fails at once): by the hash of the
 * secret, compared again in constant time, refused after its expiry.
 */
export function tokenAuthenticator(find: (hash: string) => TokenRecord | undefined): Authenticator {
  return async (authorization) => {
    const secret = bearerOf(authorization);
    if (secret === undefined) return undefined;
    const hash = hashToken(secret);
    const record = find(hash);
    if (record === undefined) return undefined;
    if (!timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    if (record.expiresAt !== null && Date.parse(record.expiresAt) <= Date.now()) return undefined;
    return { id: `token:${record.name}`, endpoints: record.endpoints.length === 0 ? undefined : record.endpoints };
  };
}

/** `http.auth = "none"`: everyone is the same anonymous credential (allowed on loopback only). */
export const anonymous: Authenticator = async () => ({ id: 'anonymous', endpoints: undefined });

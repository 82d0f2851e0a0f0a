import type { HttpConfig } from '../config/index.js';
import { OmnimindError } from '../protocol/index.js';
import type { StateDb } from '../supervisor/state-db.js';
import { type Authenticator, anonymous, tokenAuthenticator } from './auth.js';
import { oauthAuthenticator } from './oauth.js';

export { type Authenticator, type Credential, hashToken, newToken } from './auth.js';
export type { ChildAction, FleetView } from './dashboard.js';
export { FleetHistory, type HistoryPoint } from './dashboard-history.js';
export { HttpFront, type HttpFrontOptions, type HttpReport, mcpUrl } from './front.js';

/** The authenticator `http.auth` names; `resource` is the URL of `/mcp` (an OAuth token's default audience). */
export function authenticatorFor(config: HttpConfig, stateDb: StateDb, resource: string): Authenticator {
  switch (config.auth ?? 'token') {
    case 'none':
      return anonymous;
    case 'oauth':
      if (config.oauth === undefined)
        throw new OmnimindError('CONFIG_INVALID', 'http.auth "oauth" needs http.oauth.issuer');
      return oauthAuthenticator(config.oauth, resource);
    default:
      return tokenAuthenticator(
        (hash) => stateDb.findToken(hash),
        () => stateDb.dataVersion(),
      );
  }
}

/**
 * Whether a credential that opened sessions may still hold them (a token not revoked nor expired); undefined when
 * the auth mode has nothing to check between requests.
 */
export function credentialCheckFor(
  config: HttpConfig,
  stateDb: StateDb,
): ((credential: string) => boolean) | undefined {
  if ((config.auth ?? 'token') !== 'token') return undefined;
  return (credential) => {
    const token = stateDb.findTokenByName(credential.replace(/^token:/, ''));
    return token !== undefined && (token.expiresAt === null || Date.parse(token.expiresAt) > Date.now());
  };
}

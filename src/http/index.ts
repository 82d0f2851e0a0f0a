import type { HttpConfig } from '../config/index.js';
import { OmnimindError } from '../protocol/index.js';
import type { StateDb } from '../supervisor/state-db.js';
import { type Authenticator, anonymous, tokenAuthenticator } from './auth.js';

export { type Authenticator, type Credential, hashToken, newToken } from './auth.js';
export { HttpFront, type HttpFrontOptions, type HttpReport } from './front.js';

/** The authenticator `http.auth` names. */
export function authenticatorFor(config: HttpConfig, stateDb: StateDb): Authenticator {
  switch (config.auth ?? 'token') {
    case 'none':
      return anonymous;
    case 'token':
      return tokenAuthenticator((hash) => stateDb.findToken(hash));
    default:
      throw new OmnimindError('CONFIG_INVALID', `http.auth "${config.auth}" is not available in this build`);
  }
}

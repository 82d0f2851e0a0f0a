export { CLIENTS, type ClientSpec, clientSpec } from './clients.js';
export { BACKUP_SUFFIX } from './config-file.js';
export { unifiedDiff } from './diff.js';
export {
  buildServerEntry,
  connectedEndpoint,
  DEFAULT_ENDPOINT,
  type EntryOptions,
  entryEnvironment,
  entryName,
  MINIMAL_ENV_VARS,
} from './entry.js';
export {
  addToClient,
  type ChangeOptions,
  type ClientChange,
  type ClientFileReport,
  type ClientReport,
  listClients,
  removeFromClient,
} from './manage.js';
export {
  CLIENT_IDS,
  type ClientEnvironment,
  type ClientId,
  ENDPOINT_NAME,
  type Scope,
  type ServerEntry,
} from './types.js';

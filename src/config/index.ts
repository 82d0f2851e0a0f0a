export {
  BUILTIN_NODE_FLAGS,
  builtinChildEntry,
  type ChildSpec,
  DEFAULT_START_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  resolveChildSpecs,
} from './children.js';
export { type ConfigProblem, type LoadedConfig, loadConfig, loadValidConfig, validateConfig } from './load.js';
export { enabledChildNames, nameClashes, profileProblems, RESERVED_NAMES } from './names.js';
export {
  assertSocketPathFits,
  childSocketPath,
  MAX_SOCKET_PATH_BYTES,
  type OmnimindPaths,
  resolvePaths,
} from './paths.js';
export { DEFAULT_PROFILE, type ProfileSpec, resolveProfiles } from './profiles.js';
export {
  BUILTIN_CHILDREN,
  type BuiltinChildName,
  configSchema,
  type HttpConfig,
  type ProfileConfig,
  type RawConfig,
  redisL2Of,
} from './schema.js';
export { packageRoot, VERSION } from './version.js';

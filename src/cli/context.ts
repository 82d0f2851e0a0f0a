import type { LoadedConfig } from '../config/load.js';
import { assertSocketPathFits, type OmnimindPaths, resolvePaths } from '../config/paths.js';

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string;
  debug?: boolean;
}

/** The paths for this invocation (`--config` overrides OMNIMIND_CONFIG); a runtime dir too long for sockets is an error. */
export function pathsFor(options: GlobalOptions): OmnimindPaths {
  const paths = resolvePaths(process.env, options.config);
  assertSocketPathFits(paths.controlSocket);
  return paths;
}

/** The paths and the validated config; throws CONFIG_INVALID listing every problem (the schema loads only here). */
export async function configFor(options: GlobalOptions): Promise<{ paths: OmnimindPaths; loaded: LoadedConfig }> {
  const paths = pathsFor(options);
  const { loadValidConfig } = await import('../config/load.js');
  return { paths, loaded: loadValidConfig(paths.configFile) };
}

import { enabledChildNames } from './names.js';
import type { RawConfig } from './schema.js';

/** The name of the profile that always exists and serves every enabled child. */
export const DEFAULT_PROFILE = 'omnimind';

/** A profile as the supervisor serves it. */
export interface ProfileSpec {
  name: string;
  /** Its children, in the order that decides which of them claims a URI two list. */
  children: string[];
  tools: { allow?: string[]; deny?: string[] };
}

/** Every profile of a valid config: `omnimind` first (every enabled child unless narrowed), then the configured ones. */
export function resolveProfiles(config: RawConfig): ProfileSpec[] {
  const enabled = enabledChildNames(config);
  const configured = config.profiles ?? {};
  const specs: ProfileSpec[] = [];
  const add = (name: string) => {
    const section = configured[name];
    specs.push({ name, children: section?.children ?? enabled, tools: section?.tools ?? {} });
  };
  add(DEFAULT_PROFILE);
  for (const name of Object.keys(configured)) if (name !== DEFAULT_PROFILE) add(name);
  return specs;
}

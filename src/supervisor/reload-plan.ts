import { stringifyCanonical } from '../cache/index.js';
import { type ChildSpec, type ProfileSpec, type RawConfig, resolveProfiles } from '../config/index.js';
import { childIdentity } from './child-scope.js';

/** The config keys that set how a child is started and stopped for lack of use, not what runs: applied live. */
const LIFECYCLE_KEYS = ['start', 'idleStopSeconds'] as const;
/** Top-level config sections that describe children, not supervisor settings. */
const CHILD_SECTIONS = new Set(['children', 'mcpServers', 'profiles', '$schema']);
/** Settings a running supervisor takes at once: every key of these sections, except those named in RESTART_ONLY. */
const LIVE_SETTINGS = new Set(['health', 'logs', 'cache', 'limiter', 'gateway']);
/** Keys of live sections that size or start something once: they take effect when the supervisor restarts. */
const RESTART_ONLY: Readonly<Record<string, readonly string[]>> = {
  cache: ['l1MaxBytes', 'l2MaxBytes', 'l2'],
  limiter: ['initialRps', 'maxConcurrency', 'sampleIntervalMs'],
  gateway: ['maxFrameBytes'],
};

/** What a reload changes: children by name, and the supervisor settings (top-level config sections) that differ. */
export interface ReloadPlan {
  /** Enabled now and not before: start them and bind their sockets. */
  added: ChildSpec[];
  /** Enabled before and not now: stop them, disconnect their clients, remove their sockets. */
  removed: string[];
  /** Command, args, env, cwd or options differ: restart them with the new spec. */
  changed: ChildSpec[];
  /** The same process keeps running, with its pid and connections. */
  kept: string[];
  /** Kept children whose `start` or `idleStopSeconds` differ: their new spec, applied without a restart. */
  lifecycle: ChildSpec[];
  /** Profiles by name: kept ones take their (possibly new) children without dropping a client. */
  profiles: {
    added: ProfileSpec[];
    removed: string[];
    /** Their `tools` filter differs: served by a new endpoint behind the same socket (clients reconnect). */
    replaced: ProfileSpec[];
    kept: ProfileSpec[];
  };
  /** Top-level config sections (`cache`, `limiter`, `logs`, …) whose values differ. */
  settings: string[];
  /** Those of `settings` that take effect only when the supervisor is restarted (cache sizes, limiter rates, …). */
  applyAtRestart: string[];
}

/** Compares the running children and config with the newly loaded ones; pure. */
export function planReload(
  before: { specs: readonly ChildSpec[]; config: RawConfig },
  after: { specs: readonly ChildSpec[]; config: RawConfig },
): ReloadPlan {
  const old = new Map(before.specs.filter((s) => s.enabled).map((s) => [s.name, s]));
  const next = after.specs.filter((s) => s.enabled);
  const plan: ReloadPlan = {
    added: [],
    removed: [],
    changed: [],
    kept: [],
    lifecycle: [],
    profiles: { added: [], removed: [], replaced: [], kept: [] },
    settings: [],
    applyAtRestart: [],
  };
  for (const spec of next) {
    const current = old.get(spec.name);
    if (current === undefined) plan.added.push(spec);
    else if (processIdentity(current) !== processIdentity(spec) || current.builtin !== spec.builtin)
      plan.changed.push(spec);
    else {
      plan.kept.push(spec.name);
      if (lifecycleText(current) !== lifecycleText(spec)) plan.lifecycle.push(spec);
    }
  }
  const names = new Set(next.map((s) => s.name));
  plan.removed = [...old.keys()].filter((name) => !names.has(name));
  const oldProfiles = new Map(resolveProfiles(before.config).map((p) => [p.name, p]));
  const nextProfiles = resolveProfiles(after.config);
  for (const profile of nextProfiles) {
    const current = oldProfiles.get(profile.name);
    if (current === undefined) plan.profiles.added.push(profile);
    else if (stringifyCanonical(current.tools) !== stringifyCanonical(profile.tools))
      plan.profiles.replaced.push(profile);
    else plan.profiles.kept.push(profile);
  }
  const profileNames = new Set(nextProfiles.map((p) => p.name));
  plan.profiles.removed = [...oldProfiles.keys()].filter((name) => !profileNames.has(name));
  const sections = new Set([...Object.keys(before.config), ...Object.keys(after.config)]);
  for (const key of sections) {
    if (CHILD_SECTIONS.has(key)) continue;
    const a = (before.config as Record<string, unknown>)[key];
    const b = (after.config as Record<string, unknown>)[key];
    if (stringifyCanonical(a ?? null) !== stringifyCanonical(b ?? null)) plan.settings.push(key);
  }
  plan.settings.sort();
  plan.applyAtRestart = plan.settings.flatMap((key) => {
    if (!LIVE_SETTINGS.has(key)) return [key];
    const a = ((before.config as Record<string, unknown>)[key] ?? {}) as Record<string, unknown>;
    const b = ((after.config as Record<string, unknown>)[key] ?? {}) as Record<string, unknown>;
    return (RESTART_ONLY[key] ?? [])
      .filter((field) => stringifyCanonical(a[field] ?? null) !== stringifyCanonical(b[field] ?? null))
      .map((field) => `${key}.${field}`);
  });
  return plan;
}

/** A child's identity without its lifecycle keys: what decides whether the process must be restarted. */
function processIdentity(spec: ChildSpec): string {
  const options = withoutLifecycle(spec.options);
  const env = { ...spec.env };
  // A built-in reads its options from this variable: the lifecycle keys in it change nothing in the process.
  if (env.OMNIMIND_CHILD_CONFIG !== undefined) {
    env.OMNIMIND_CHILD_CONFIG = stringifyCanonical(withoutLifecycle(JSON.parse(env.OMNIMIND_CHILD_CONFIG)));
  }
  return childIdentity({ ...spec, options, env });
}

function withoutLifecycle(options: Record<string, unknown>): Record<string, unknown> {
  const out = { ...options };
  for (const key of LIFECYCLE_KEYS) delete out[key];
  return out;
}

function lifecycleText(spec: ChildSpec): string {
  return stringifyCanonical(LIFECYCLE_KEYS.map((key) => spec.options[key] ?? null));
}

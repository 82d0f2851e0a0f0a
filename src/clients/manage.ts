import { existsSync } from 'node:fs';
import { OmnimindError } from '../protocol/index.js';
import { CLIENTS, type ClientSpec, clientSpec } from './clients.js';
import { assertWritable, readConfigFile, writeConfigFile } from './config-file.js';
import { unifiedDiff } from './diff.js';
import { connectedEndpoint, entryName } from './entry.js';
import type { ClientEnvironment, ClientId, Scope, ServerEntry } from './types.js';

/** What `add` or `remove` did (or, with `dryRun`, would do) to one client's config file. */
export interface ClientChange {
  client: ClientSpec;
  scope: Scope;
  /** The config file the client reads. */
  file: string;
  /** The entry's name in that file. */
  name: string;
  outcome: 'added' | 'updated' | 'unchanged' | 'removed' | 'absent';
  /** The unified diff of the change; empty when nothing changes. */
  diff: string;
  /** Where the previous content was saved; undefined when nothing was written or the file is new. */
  backup: string | undefined;
}

/** Options of {@link addToClient} and {@link removeFromClient}. */
export interface ChangeOptions {
  endpoint: string;
  scope: Scope;
  /** Compute the change and its diff, write nothing. */
  dryRun: boolean;
  environment: ClientEnvironment;
}

/** One config file of a client as `clients list` reports it. */
export interface ClientFileReport {
  scope: Scope;
  path: string;
  exists: boolean;
  /** The entries that run `omnimind connect`, with the endpoint each reaches. */
  entries: Array<{ name: string; endpoint: string }>;
  /** Why the file could not be read, when it could not. */
  error?: string;
}

/** A client as `clients list` reports it. */
export interface ClientReport {
  id: ClientId;
  name: string;
  /** Its user config file or its own directory exists. */
  found: boolean;
  files: ClientFileReport[];
}

function isFound(spec: ClientSpec, environment: ClientEnvironment): boolean {
  const user = spec.files.user?.(environment);
  return (user !== undefined && existsSync(user)) || existsSync(spec.directory(environment));
}

function configPath(spec: ClientSpec, scope: Scope, environment: ClientEnvironment): string {
  const path = spec.files[scope]?.(environment);
  if (path === undefined) {
    throw new OmnimindError(
      'CLIENT_SCOPE_UNSUPPORTED',
      `${spec.name} has no ${scope} configuration; use --scope ${scope === 'user' ? 'project' : 'user'}.`,
    );
  }
  return path;
}

/** Writes (or with `dryRun` only diffs) the entry for `options.endpoint` into one client's config file; idempotent. */
export function addToClient(id: ClientId, entry: ServerEntry, options: ChangeOptions): ClientChange {
  const spec = clientSpec(id);
  const path = configPath(spec, options.scope, options.environment);
  if (options.scope === 'user' && !isFound(spec, options.environment)) {
    throw new OmnimindError(
      'CLIENT_NOT_FOUND',
      `${spec.name} was not found on this machine (neither ${path} nor ${spec.directory(options.environment)} exists): ` +
        'install it and start it once, then run this again.',
    );
  }
  const name = entryName(options.endpoint);
  const file = readConfigFile(path);
  const text = file.text ?? '';
  const stored = spec.format.readServers(text, path)[name];
  const change = { client: spec, scope: options.scope, file: path, name, backup: undefined };
  if (stored !== undefined && spec.format.matches(stored, entry)) return { ...change, outcome: 'unchanged', diff: '' };
  assertWritable(file);
  const updated = spec.format.setServer(text, path, name, entry);
  const diff = unifiedDiff(file.text, updated, path);
  const outcome = stored === undefined ? 'added' : 'updated';
  if (options.dryRun) return { ...change, outcome, diff };
  const { backup } = writeConfigFile(file, updated, { private: options.scope === 'user' });
  return { ...change, outcome, diff, backup };
}

/** Removes (or with `dryRun` only diffs) the entry for `options.endpoint` from one client's config file. */
export function removeFromClient(id: ClientId, options: ChangeOptions): ClientChange {
  const spec = clientSpec(id);
  const path = configPath(spec, options.scope, options.environment);
  const name = entryName(options.endpoint);
  const file = readConfigFile(path);
  const change = { client: spec, scope: options.scope, file: path, name, backup: undefined };
  if (file.text === undefined || spec.format.readServers(file.text, path)[name] === undefined) {
    return { ...change, outcome: 'absent', diff: '' };
  }
  assertWritable(file);
  const updated = spec.format.removeServer(file.text, path, name);
  const diff = unifiedDiff(file.text, updated, path);
  if (options.dryRun) return { ...change, outcome: 'removed', diff };
  const { backup } = writeConfigFile(file, updated, { private: options.scope === 'user' });
  return { ...change, outcome: 'removed', diff, backup };
}

function reportFile(spec: ClientSpec, scope: Scope, path: string): ClientFileReport {
  const report: ClientFileReport = { scope, path, exists: existsSync(path), entries: [] };
  if (!report.exists) return report;
  try {
    const file = readConfigFile(path);
    for (const [name, stored] of Object.entries(spec.format.readServers(file.text ?? '', path))) {
      const endpoint = connectedEndpoint(stored);
      if (endpoint !== undefined) report.entries.push({ name, endpoint });
    }
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
  }
  return report;
}

/** Every supported client: found or not, its user config file and the project's (when present in `cwd`). */
export function listClients(environment: ClientEnvironment): ClientReport[] {
  return CLIENTS.map((spec) => {
    const files: ClientFileReport[] = [];
    for (const scope of ['user', 'project'] as const) {
      const path = spec.files[scope]?.(environment);
      if (path === undefined) continue;
      const report = reportFile(spec, scope, path);
      if (scope === 'user' || report.exists) files.push(report);
    }
    return { id: spec.id, name: spec.name, found: isFound(spec, environment), files };
  });
}

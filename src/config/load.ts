import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { OmnimindError } from '../protocol/index.js';
import { nameClashes, profileProblems } from './names.js';
import { configSchema, type RawConfig } from './schema.js';

/** One thing wrong with a config file, with where and what to do. */
export interface ConfigProblem {
  path: string;
  message: string;
  hint: string;
}

/** The result of reading a config file: the config, where it came from, and every problem found. */
export interface LoadedConfig {
  file: string;
  exists: boolean;
  config: RawConfig;
  problems: ConfigProblem[];
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `remove ${issue.keys.map((k) => `"${k}"`).join(', ')} or check the spelling against the README's config reference`;
    case 'invalid_type':
      return `use a value of type ${issue.expected}`;
    case 'too_small':
      return 'use a larger value or a non-empty one';
    case 'invalid_value':
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return 'see the config reference in the README';
  }
}

/** Validates an already-parsed value (types, then names that clash); returns the typed config and every problem. */
export function validateConfig(value: unknown): { config: RawConfig; problems: ConfigProblem[] } {
  const parsed = configSchema.safeParse(value);
  const problems = (parsed.success ? [] : parsed.error.issues).map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
    hint: hintFor(issue),
  }));
  problems.push(...nameClashes(value), ...profileProblems(value));
  return parsed.success && problems.length === 0 ? { config: parsed.data, problems } : { config: {}, problems };
}

/** Reads and validates the config file; a missing file is an empty config. */
export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, config: {}, problems: [] };
    throw new OmnimindError('CONFIG_UNREADABLE', `Cannot read the config file ${file}: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      file,
      exists: true,
      config: {},
      problems: [{ path: '$', message: `not valid JSON: ${(error as Error).message}`, hint: 'fix the JSON syntax' }],
    };
  }
  return { file, exists: true, ...validateConfig(value) };
}

/** Loads the config or throws CONFIG_INVALID listing every problem. */
export function loadValidConfig(file: string): LoadedConfig {
  const loaded = loadConfig(file);
  if (loaded.problems.length > 0) {
    const list = loaded.problems.map((p) => `  ${p.path}: ${p.message} (${p.hint})`).join('\n');
    throw new OmnimindError(
      'CONFIG_INVALID',
      `The config file ${file} has ${loaded.problems.length} problem(s):\n${list}\nFix them and run \`omnimind config --check\`.`,
    );
  }
  return loaded;
}

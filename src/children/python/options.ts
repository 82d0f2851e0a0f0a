import { OmnimindError } from '../../protocol/index.js';

/** Wall time one run gets when the config sets none (ms). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Address space one Python process gets when the config sets none (MiB). */
export const DEFAULT_MEMORY_MB = 512;
/** The smallest address space accepted (MiB): below it the interpreter cannot even start. */
export const MIN_MEMORY_MB = 64;
/**
 * The interpreters tried in order when the config names none: the first one the sandbox can run wins (as root,
 * one inside a private home such as ~/.pyenv cannot be run by the unprivileged user, so a system one is tried next).
 */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3', '/usr/local/bin/python3'] as const;

/** The python child's options, checked. */
export interface PythonOptions {
  /** The longest a run may take, and the cap on a call's own `timeoutMs` (ms). */
  timeoutMs: number;
  /** Address space limit of each Python process (MiB). */
  memoryMb: number;
  /** The interpreter to run (a name looked up on PATH or a path), or undefined to try DEFAULT_PYTHONS. */
  python: string | undefined;
}

function invalid(message: string): OmnimindError {
  return new OmnimindError('CHILD_CONFIG_INVALID', message);
}

function checkInteger(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < min) {
    throw invalid(`Expected \`${name}\` to be an integer >= ${min}, got \`${JSON.stringify(value)}\``);
  }
  return value as number;
}

/** Checks the python section of the config (`timeoutMs`, `memoryMb`, `python`) and fills in defaults. */
export function parsePythonOptions(raw: Record<string, unknown>): PythonOptions {
  const { python } = raw;
  if (python !== undefined && (typeof python !== 'string' || python.trim() === '')) {
    throw invalid(`Expected \`python\` to be a non-empty command or path, got \`${JSON.stringify(python)}\``);
  }
  return {
    timeoutMs: checkInteger('timeoutMs', raw.timeoutMs, 1) ?? DEFAULT_TIMEOUT_MS,
    memoryMb: checkInteger('memoryMb', raw.memoryMb, MIN_MEMORY_MB) ?? DEFAULT_MEMORY_MB,
    python,
  };
}

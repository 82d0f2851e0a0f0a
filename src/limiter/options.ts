import { realClock } from '../clock/index.js';
import { OmnimindError } from '../protocol/index.js';
import { DEFAULT_STRESS } from './health.js';
import type { HealthSample, LimiterClock, LimiterOptions, StressThresholds } from './types.js';

/** Defaults of the limiter's numeric options (CONTRACT.md, config `limiter`). */
export const LIMITER_DEFAULTS = {
  initialRps: 100,
  minRps: 10,
  maxRps: 100_000,
  maxQueue: 10_000,
  timeoutMs: 30_000,
  sampleIntervalMs: 5_000,
} as const;

/** Options with every default filled in and every value checked. */
export interface ResolvedLimiterOptions {
  initialRps: number;
  minRps: number;
  maxRps: number;
  maxQueue: number;
  timeoutMs: number;
  maxTimeoutMs: number;
  maxConcurrency: number | undefined;
  childConcurrency: Readonly<Record<string, number>>;
  sampleIntervalMs: number;
  clock: LimiterClock;
  healthProbe: (() => HealthSample) | undefined;
  logger: { info(m: string): void; warn(m: string): void } | undefined;
  stress: StressThresholds;
}

/** Fills in defaults and throws a CONFIG_INVALID error naming the first bad option. */
export function resolveLimiterOptions(options: LimiterOptions = {}): ResolvedLimiterOptions {
  const initialRps = checkPositive('initialRps', options.initialRps ?? LIMITER_DEFAULTS.initialRps);
  const minRps = checkPositive('minRps', options.minRps ?? Math.min(LIMITER_DEFAULTS.minRps, initialRps));
  const maxRps = checkPositive('maxRps', options.maxRps ?? Math.max(LIMITER_DEFAULTS.maxRps, initialRps));
  if (minRps > maxRps) fail('minRps', `<= maxRps (${maxRps})`, minRps);
  if (initialRps < minRps || initialRps > maxRps) fail('initialRps', `between minRps and maxRps`, initialRps);
  const timeoutMs = checkPositive('timeoutMs', options.timeoutMs ?? LIMITER_DEFAULTS.timeoutMs);
  const maxTimeoutMs = checkPositive('maxTimeoutMs', options.maxTimeoutMs ?? timeoutMs);
  if (maxTimeoutMs < timeoutMs) fail('maxTimeoutMs', `>= timeoutMs (${timeoutMs})`, maxTimeoutMs);
  const childConcurrency: Record<string, number> = {};
  for (const [child, cap] of Object.entries(options.childConcurrency ?? {})) {
    childConcurrency[child] = checkInteger(`childConcurrency.${child}`, cap);
  }
  const stress = { ...DEFAULT_STRESS };
  for (const [key, value] of Object.entries(options.stress ?? {})) {
    if (value !== undefined) stress[key as keyof StressThresholds] = checkPositive(`stress.${key}`, value);
  }
  return {
    initialRps,
    minRps,
    maxRps,
    maxQueue: checkInteger('maxQueue', options.maxQueue ?? LIMITER_DEFAULTS.maxQueue),
    timeoutMs,
    maxTimeoutMs,
    maxConcurrency:
      options.maxConcurrency === undefined ? undefined : checkInteger('maxConcurrency', options.maxConcurrency),
    childConcurrency,
    sampleIntervalMs: checkPositive('sampleIntervalMs', options.sampleIntervalMs ?? LIMITER_DEFAULTS.sampleIntervalMs),
    clock: options.clock ?? realClock,
    healthProbe: options.healthProbe,
    logger: options.logger,
    stress,
  };
}

function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(name, 'a finite number > 0', value);
  return value;
}

function checkInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(name, 'an integer >= 1', value);
  return value;
}

function fail(name: string, expected: string, value: unknown): never {
  throw new OmnimindError('CONFIG_INVALID', `Expected \`${name}\` to be ${expected}, got \`${String(value)}\``);
}

import { performance } from 'node:perf_hooks';
import type { LimiterClock } from './types.js';

/** The real clock: monotonic `performance.now()` and unref'd timers, so the limiter never keeps a process alive. */
export const realClock: LimiterClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

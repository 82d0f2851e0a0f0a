export { realClock } from '../clock/index.js';
export { AdaptiveLimiter, type LimiterStats, type RunOptions } from './adaptive-limiter.js';
export { ChildWindow, DEFAULT_MAX_CHILD_WINDOW, INITIAL_CHILD_WINDOW, MIN_CHILD_WINDOW } from './child-window.js';
export { createClosedError, LimiterRejection, type RejectionCode } from './errors.js';
export { createHostHealthProbe, DEFAULT_STRESS, type HostHealthProbe, judgeHealth } from './health.js';
export { LIMITER_DEFAULTS, resolveLimiterOptions } from './options.js';
export { parsePriority, resolvePriority } from './priority.js';
export { QueueDelay, STANDING_ANSWERS, TARGET_FLOOR_MS } from './queue-delay.js';
export { RateController, SLOW_START_STEP_MS } from './rate.js';
export {
  type HealthSample,
  type LimiterClock,
  type LimiterOptions,
  PRIORITIES,
  PRIORITY_RANK,
  type Priority,
  type StressThresholds,
} from './types.js';

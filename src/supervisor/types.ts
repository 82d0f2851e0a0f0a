export type { ChildState } from '../gateway/index.js';

/** Why a child process ended: an ordinary outcome, not an error. */
export type ExitReason = 'stopped' | 'crashed' | 'timeout' | 'killed' | 'spawn-failed' | 'unresponsive';

/** The last exit of a child, as shown in `status --json`. */
export interface ExitRecord {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
  at: string;
  message?: string;
}

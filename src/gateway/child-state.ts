/** A child's lifecycle state (CONTRACT.md, "Child states"). */
export type ChildState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'EXITED' | 'BACKOFF' | 'FATAL' | 'IDLE';

/** The states a child does not come back from without `omnimind start`: requests get -32011 at once. */
const DOWN_STATES: ReadonlySet<ChildState> = new Set(['FATAL', 'STOPPED', 'STOPPING']);

/** Whether a child in `state` is down: stopped, being stopped, or FATAL (IDLE is not: a request starts it). */
export function isDown(state: ChildState): boolean {
  return DOWN_STATES.has(state);
}

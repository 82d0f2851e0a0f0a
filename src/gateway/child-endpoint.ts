import { type ChildState, isDown } from './child-state.js';
import type { Endpoint, InitializeOutcome, Member, Route } from './endpoint.js';
import type { ChildLink } from './types.js';

/** A child's own endpoint: every request goes to that child, and `initialize` answers what the child answered. */
export class ChildEndpoint implements Endpoint {
  readonly name: string;
  readonly members: readonly Member[];
  readonly single: Member;

  constructor(member: Member) {
    this.name = member.router.link.name;
    this.single = member;
    this.members = [member];
  }

  async initialize(signal: AbortSignal): Promise<InitializeOutcome> {
    const { router } = this.single;
    const link = router.link;
    if (link.state !== 'RUNNING' && !(await waitForRunning(link, signal))) {
      return router.unavailable(link.state) as InitializeOutcome;
    }
    return { kind: 'result', result: link.initializeResult ?? {} };
  }

  route(_method: string, params: Record<string, unknown> | undefined): Route {
    return { kind: 'member', member: this.single, params };
  }
}

/**
 * Resolves true once the child is RUNNING, false if it goes down, fails a start on demand, or the signal aborts
 * first. An IDLE child is started.
 */
export function waitForRunning(link: ChildLink, signal: AbortSignal): Promise<boolean> {
  if (link.state === 'RUNNING') return Promise.resolve(true);
  if (isDown(link.state) || signal.aborted) return Promise.resolve(false);
  link.demand();
  return new Promise((resolve) => {
    const onState = (state: ChildState) => {
      if (state !== 'RUNNING' && state !== 'IDLE' && !isDown(state)) return;
      cleanup();
      resolve(state === 'RUNNING');
    };
    const onAbort = () => {
      cleanup();
      resolve(false);
    };
    const cleanup = () => {
      (link as unknown as NodeJS.EventEmitter).off('state', onState);
      signal.removeEventListener('abort', onAbort);
    };
    link.on('state', onState);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

import { describe, expect, it } from 'vitest';
import { Cancellation, NEVER_CANCELLED } from '../../../src/protocol/index.js';

describe('Cancellation', () => {
  it('tells each listener once, in order, with the reason, and forgets one taken back', () => {
    const cancellation = new Cancellation();
    const heard: string[] = [];
    const second = (reason: unknown) => heard.push(`second ${String(reason)}`);
    cancellation.onAbort((reason) => heard.push(`first ${String(reason)}`));
    cancellation.onAbort(second);
    cancellation.onAbort((reason) => heard.push(`third ${String(reason)}`));
    cancellation.offAbort(second);
    expect(cancellation.aborted).toBe(false);
    cancellation.abort('why');
    cancellation.abort('again');
    expect(heard).toEqual(['first why', 'third why']);
    expect(cancellation.aborted).toBe(true);
    expect(cancellation.reason).toBe('why');
  });

  it('makes an AbortSignal only when asked, aborted with it before or after', () => {
    const early = new Cancellation();
    early.abort('before');
    expect(early.signal.aborted).toBe(true);
    expect(early.signal.reason).toBe('before');
    const late = new Cancellation();
    const { signal } = late;
    expect(signal.aborted).toBe(false);
    late.abort('after');
    expect(signal.reason).toBe('after');
  });

  it('follows an AbortSignal, and the shared uncancellable one keeps no listener', () => {
    const controller = new AbortController();
    const following = Cancellation.following(controller.signal);
    controller.abort('gone');
    expect(following.reason).toBe('gone');
    let called = false;
    NEVER_CANCELLED.onAbort(() => {
      called = true;
    });
    NEVER_CANCELLED.abort('no');
    expect([NEVER_CANCELLED.aborted, called]).toEqual([false, false]);
  });
});

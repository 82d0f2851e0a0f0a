/** What a cancelled request's holders are told: the reason it was cancelled. */
export type CancelListener = (reason: unknown) => void;

/**
 * Whether a request was cancelled (by its client, its deadline, its client leaving), and whom to tell: the one object
 * a request carries through the limiter, the cache and the router in place of an AbortController, whose EventTarget
 * costs more than the rest of a forwarded request's bookkeeping. An AbortSignal is made only for an API that needs
 * one (`signal`).
 */
export class Cancellation {
  #aborted = false;
  #reason: unknown;
  /** One listener (the common case) or several. */
  #listeners: CancelListener | CancelListener[] | undefined;
  #controller: AbortController | undefined;

  /** A cancellation that follows `signal`. */
  static following(signal: AbortSignal): Cancellation {
    const cancellation = new Cancellation();
    if (signal.aborted) cancellation.abort(signal.reason);
    else signal.addEventListener('abort', () => cancellation.abort(signal.reason), { once: true });
    return cancellation;
  }

  /** Whether it was cancelled. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was cancelled (undefined until it is). */
  get reason(): unknown {
    return this.#reason;
  }

  /** An AbortSignal aborted with this cancellation, made on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Cancels: every listener is told once, in the order they were added. Later calls change nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (typeof listeners === 'function') listeners(reason);
    else if (listeners !== undefined) for (const listener of listeners) listener(reason);
    this.#controller?.abort(reason);
  }

  /** Tells `listener` when it is cancelled (never, if it already was: check `aborted` first). */
  onAbort(listener: CancelListener): void {
    if (this.#aborted) return;
    const listeners = this.#listeners;
    if (listeners === undefined) this.#listeners = listener;
    else if (typeof listeners === 'function') this.#listeners = [listeners, listener];
    else listeners.push(listener);
  }

  /** Forgets a listener added with `onAbort`. */
  offAbort(listener: CancelListener): void {
    const listeners = this.#listeners;
    if (listeners === listener) this.#listeners = undefined;
    else if (Array.isArray(listeners)) {
      const index = listeners.indexOf(listener);
      if (index !== -1) listeners.splice(index, 1);
    }
  }
}

/** A cancellation no one can cancel, for callers that give none: it keeps no listeners. */
class Uncancellable extends Cancellation {
  override abort(): void {}
  override onAbort(): void {}
}

/** The shared cancellation of requests nothing can cancel. */
export const NEVER_CANCELLED: Cancellation = new Uncancellable();

/**
 * Bounds how many runs go at once and numbers them: each run holds one of the slots 0 … max-1 while it goes (its
 * uid derives from it). Callers beyond that wait in order, up to `maxWaiting`, and are refused after.
 */
export class RunSlots {
  readonly #max: number;
  readonly #maxWaiting: number;
  readonly #waiting: ((slot: number) => void)[] = [];
  readonly #free: number[];
  readonly #idleWaiters: (() => void)[] = [];

  constructor(max: number, maxWaiting: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new TypeError(`Expected \`max\` to be an integer >= 1, got \`${max}\``);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) {
      throw new TypeError(`Expected \`maxWaiting\` to be an integer >= 0, got \`${maxWaiting}\``);
    }
    this.#max = max;
    this.#maxWaiting = maxWaiting;
    this.#free = Array.from({ length: max }, (_, slot) => slot);
  }

  /** Runs `body` with a free slot; rejects at once when too many are waiting or when `signal` aborts first. */
  async use<T>(body: (slot: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const slot = this.#free.shift() ?? (await this.#wait(signal));
    try {
      return await body(slot);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(slot);
      else this.#free.push(slot);
      if (this.#free.length === this.#max) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no run holds a slot (at once when none does): every finished run has cleaned up after itself. */
  idle(): Promise<void> {
    if (this.#free.length === this.#max) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wait(signal: AbortSignal | undefined): Promise<number> {
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new Error(`Too many runs: ${this.#max} are running and ${this.#maxWaiting} are waiting. Try again shortly.`),
      );
    }
    return new Promise((resolve, reject) => {
      const grant = (slot: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(slot);
      };
      const onAbort = () => {
        this.#waiting.splice(this.#waiting.indexOf(grant), 1);
        reject(new Error('The run was cancelled before it started.'));
      };
      this.#waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

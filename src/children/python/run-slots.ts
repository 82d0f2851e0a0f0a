/** Bounds how many runs go at once; callers beyond that wait in order, up to `maxWaiting`, and are refused after. */
export class RunSlots {
  readonly #max: number;
  readonly #maxWaiting: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(max: number, maxWaiting: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new TypeError(`Expected \`max\` to be an integer >= 1, got \`${max}\``);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) {
      throw new TypeError(`Expected \`maxWaiting\` to be an integer >= 0, got \`${maxWaiting}\``);
    }
    this.#max = max;
    this.#maxWaiting = maxWaiting;
  }

  /** Runs `body` once a slot is free; rejects at once when too many are waiting or when `signal` aborts first. */
  async use<T>(body: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running >= this.#max) await this.#wait(signal);
    else this.#running++;
    try {
      return await body();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new Error(`Too many runs: ${this.#max} are running and ${this.#maxWaiting} are waiting. Try again shortly.`),
      );
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
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

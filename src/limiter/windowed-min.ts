/**
 * The smallest value seen over the last one to two epochs: two epoch minimums, the older dropped as a new epoch
 * starts. A cheap sliding minimum (no samples kept) for baselines that must forget a past that no longer holds.
 */
export class WindowedMin {
  readonly #epochMs: number;
  #epochStartedAt = Number.NEGATIVE_INFINITY;
  #current = Number.POSITIVE_INFINITY;
  #previous = Number.POSITIVE_INFINITY;

  constructor(epochMs: number) {
    this.#epochMs = epochMs;
  }

  /** The minimum, or 0 when nothing was seen. */
  get value(): number {
    const value = Math.min(this.#current, this.#previous);
    return value === Number.POSITIVE_INFINITY ? 0 : value;
  }

  /** Adds one value observed at `now`. */
  add(value: number, now: number): void {
    if (now - this.#epochStartedAt >= this.#epochMs) {
      this.#previous = this.#current;
      this.#current = Number.POSITIVE_INFINITY;
      this.#epochStartedAt = now;
    }
    if (value < this.#current) this.#current = value;
  }
}

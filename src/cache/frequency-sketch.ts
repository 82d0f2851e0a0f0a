/** Rows of the count-min sketch: 4 keeps the overestimate from collisions small at a few array reads per update. */
const SKETCH_DEPTH = 4;

/** Counters saturate here: TinyLFU only needs to tell "rare" from "frequent", and 4 bits of range are enough. */
const MAX_COUNT = 15;

/** Counters are halved after this many increments per column, so the sketch follows a changing popularity. */
const SAMPLES_PER_COLUMN = 10;

/** Smallest width: 1024 columns (4 KiB) keep small caches' estimates from drowning in collisions. */
const MIN_WIDTH = 1024;

/** Seeds that give each row its own index for the same key hash. */
const ROW_SEEDS = [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f] as const;

/** Mixes a 32-bit value (murmur3's finaliser), so nearby hashes land in unrelated columns. */
function mix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Approximate recent request counts per key hash (TinyLFU's count-min sketch with conservative update and aging). */
export class FrequencySketch {
  readonly width: number;
  readonly #table: Uint8Array;
  readonly #mask: number;
  readonly #sampleSize: number;
  readonly #index = new Uint32Array(SKETCH_DEPTH);
  #additions = 0;

  /**
   * `minWidth` is rounded up to a power of two: about one column per entry the cache can hold. A sketch made from
   * a smaller one starts with its counts, so growing loses no history.
   */
  constructor(minWidth: number, from?: FrequencySketch) {
    let width = MIN_WIDTH;
    while (width < minWidth) width *= 2;
    this.width = width;
    this.#mask = width - 1;
    this.#table = new Uint8Array(width * SKETCH_DEPTH);
    this.#sampleSize = width * SAMPLES_PER_COLUMN;
    if (from !== undefined && from.width <= width) {
      // A key's column under the wider mask is its old column plus high bits: inherit that column's count.
      for (let row = 0; row < SKETCH_DEPTH; row++) {
        for (let column = 0; column < width; column++) {
          this.#table[row * width + column] = from.#table[row * from.width + (column & from.#mask)]!;
        }
      }
      this.#additions = from.#additions;
    }
  }

  /** Counts one request for the key with this hash. */
  increment(keyHash: number): void {
    const minimum = this.#locate(keyHash);
    if (minimum >= MAX_COUNT) return;
    // Conservative update: only the counters at the minimum grow, which halves the collision error in practice.
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const slot = this.#index[row]!;
      if (this.#table[slot] === minimum) this.#table[slot] = minimum + 1;
    }
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  /** Estimated recent request count of the key with this hash. */
  estimate(keyHash: number): number {
    return this.#locate(keyHash);
  }

  /** Fills the slot indexes of a hash and returns the smallest counter among them. */
  #locate(keyHash: number): number {
    let minimum = MAX_COUNT;
    for (let row = 0; row < SKETCH_DEPTH; row++) {
      const slot = row * this.width + (mix32(keyHash ^ ROW_SEEDS[row]!) & this.#mask);
      this.#index[row] = slot;
      const count = this.#table[slot]!;
      if (count < minimum) minimum = count;
    }
    return minimum;
  }

  /** Halves every counter, so old popularity fades. */
  #age(): void {
    for (let i = 0; i < this.#table.length; i++) this.#table[i] = this.#table[i]! >>> 1;
    this.#additions = Math.floor(this.#additions / 2);
  }
}

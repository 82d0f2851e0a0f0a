/** mulberry32: a tiny seeded PRNG, so every benchmark run replays the same trace and samples. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A Zipf(s) trace of key indexes, drawn by inverse CDF. */
export function createZipfTrace(keys: number, exponent: number, length: number, seed: number): Int32Array {
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let i = 0; i < keys; i++) {
    total += 1 / (i + 1) ** exponent;
    cdf[i] = total;
  }
  const random = createRandom(seed);
  const trace = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const target = random() * total;
    let low = 0;
    let high = keys - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cdf[middle]! < target) low = middle + 1;
      else high = middle;
    }
    trace[i] = low;
  }
  return trace;
}

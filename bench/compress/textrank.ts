import { countTokens } from '../../src/compress/index.js';

/** PageRank damping factor of the original TextRank paper. */
const DAMPING = 0.85;
/** Stop iterating once no score moves by more than this, or after MAX_ITERATIONS. */
const TOLERANCE = 1e-4;
const MAX_ITERATIONS = 50;

const STOPWORDS = new Set(
  'the a an and or but if of to in on at by for with from as is are was were be it its this that we you they not no so'.split(
    ' ',
  ),
);
const SENTENCE_END = /(?<=[.!?])\s+(?=\S)/;
const WORD = /[a-z0-9_]+/g;

/**
 * The TextRank extractive baseline (Mihalcea & Tarau, 2004): lines split into sentences, a graph with edge
 * weight = word overlap / (log |S1| + log |S2|), PageRank over it, then the highest-ranked sentences filled
 * into the same token budget and printed in document order. Quadratic in the number of sentences.
 */
export function textRank(text: string, targetTokens: number): string {
  const sentences = text
    .split('\n')
    .flatMap((line) => line.split(SENTENCE_END))
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
  const n = sentences.length;
  const ids = new Map<string, number>();
  const bags = sentences.map((sentence) => {
    const unique = new Set<number>();
    for (const word of sentence.toLowerCase().match(WORD) ?? []) {
      if (STOPWORDS.has(word)) continue;
      let id = ids.get(word);
      if (id === undefined) {
        id = ids.size;
        ids.set(word, id);
      }
      unique.add(id);
    }
    return Int32Array.from(unique).sort();
  });

  // Edge weights in compressed rows; the graph is symmetric, so each pair is computed once.
  const neighbours: number[][] = Array.from({ length: n }, () => []);
  const weights: number[][] = Array.from({ length: n }, () => []);
  const strength = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = bags[i]!;
    if (a.length < 2) continue;
    for (let j = i + 1; j < n; j++) {
      const b = bags[j]!;
      if (b.length < 2) continue;
      const overlap = countOverlap(a, b);
      if (overlap === 0) continue;
      const weight = overlap / (Math.log(a.length) + Math.log(b.length));
      neighbours[i]!.push(j);
      weights[i]!.push(weight);
      neighbours[j]!.push(i);
      weights[j]!.push(weight);
      strength[i]! += weight;
      strength[j]! += weight;
    }
  }

  let rank = new Float64Array(n).fill(1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const next = new Float64Array(n);
    let delta = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      const row = neighbours[i]!;
      const rowWeights = weights[i]!;
      for (let k = 0; k < row.length; k++) {
        const j = row[k]!;
        sum += (rowWeights[k]! / strength[j]!) * rank[j]!;
      }
      next[i] = 1 - DAMPING + DAMPING * sum;
      delta = Math.max(delta, Math.abs(next[i]! - rank[i]!));
    }
    rank = next;
    if (delta < TOLERANCE) break;
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => rank[y]! - rank[x]! || x - y);
  const chosen = new Uint8Array(n);
  const picked: number[] = [];
  let remaining = targetTokens;
  for (const i of order) {
    const cost = countTokens(sentences[i]!) + 1;
    if (cost > remaining) continue;
    chosen[i] = 1;
    picked.push(i);
    remaining -= cost;
  }
  let output = sentences.filter((_, i) => chosen[i] === 1).join('\n');
  while (countTokens(output) > targetTokens && picked.length > 0) {
    chosen[picked.pop()!] = 0;
    output = sentences.filter((_, i) => chosen[i] === 1).join('\n');
  }
  return output;
}

function countOverlap(a: Int32Array, b: Int32Array): number {
  let i = 0;
  let j = 0;
  let overlap = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      overlap++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return overlap;
}

import type { Unit } from './types.js';

/** Per-unit scores (higher is kept first) and which units repeat an earlier one verbatim. */
export interface Scores {
  score: Float64Array;
  /** 1 where the unit's whitespace-normalised text equals an earlier unit's. */
  duplicate: Uint8Array;
}

/** Weight of a unit's mean word rarity (0..1 after normalising to the rarest unit). */
const RARITY_WEIGHT = 0.6;
/** Bonus for the opening unit of a paragraph, message or block: openings carry topics. */
const LEAD_BONUS = 0.1;
/** Peak bonuses at the very start and very end; chat contexts weigh recent turns more than old ones. */
const START_BONUS = 0.15;
const END_BONUS = 0.25;
/** Exponent of the position curves: only roughly the first and last tenth get a noticeable bonus. */
const POSITION_EXPONENT = 8;
/** Units with fewer content words than this ("ok", "done.") say little and are halved. */
const MIN_CONTENT_WORDS = 3;
/** Factor for a near-duplicate (same words once digits, ids, case and punctuation are masked). */
const NEAR_DUPLICATE_FACTOR = 0.25;
/** Weight of query relevance (0..1): any unit matching a query word outranks every unit that matches none. */
const QUERY_WEIGHT = 2;
/** Added to critical units when they are not mandatory, so they still go first. */
const CRITICAL_BONUS = 3;

const STOPWORDS = new Set(
  (
    'the a an and or but if then else of to in on at by for with from as is are was were be been being it its ' +
    'this that these those there here we you he she they them our your their i me my not no so do does did done ' +
    'has have had can could will would should may might also just than too very into over about after before ' +
    'all any some more most such only own same other which who whom what when where why how up out off again'
  ).split(' '),
);

const WORD = /[a-z][a-z0-9_]+/g;
const TEXT_WORD = /[A-Za-z][A-Za-z0-9_]+/g;
const WHITESPACE_RUN = /\s+/g;
const IRREGULAR_SPACE = /\s\s|[\t\n\r\f\v\u00a0]/;
const HAS_DIGIT = /\d/;

/** A light suffix stripper so "restarts", "restarted" and "restarting" meet the query word "restart". */
export function stemWord(word: string): string {
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('es')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** The key two units share when one repeats the other verbatim (whitespace runs collapsed). */
export function exactKey(text: string): string {
  return IRREGULAR_SPACE.test(text) ? text.replace(WHITESPACE_RUN, ' ').trim() : text;
}

/** Vocabulary of one call: each distinct spelling is lowercased, stemmed and looked up once. */
class Vocabulary {
  readonly ids = new Map<string, number>();
  readonly df: number[] = [];
  readonly lastUnit: number[] = [];
  readonly stop: boolean[] = [];
  /** Words holding a digit ("worker3", "v2") are masked out of near-duplicate shapes. */
  readonly numeric: boolean[] = [];
  private readonly spellings = new Map<string, number>();

  /** The id of a word as spelled in the text. */
  idOf(spelling: string): number {
    let id = this.spellings.get(spelling);
    if (id === undefined) {
      const lower = spelling.toLowerCase();
      id = this.stemId(STOPWORDS.has(lower) ? lower : stemWord(lower), STOPWORDS.has(lower), HAS_DIGIT.test(lower));
      this.spellings.set(spelling, id);
    }
    return id;
  }

  /** The id of an already lowercased and stemmed word, if the text has it. */
  find(stem: string): number | undefined {
    return this.ids.get(stem);
  }

  private stemId(stem: string, stop: boolean, numeric: boolean): number {
    let id = this.ids.get(stem);
    if (id === undefined) {
      id = this.df.length;
      this.ids.set(stem, id);
      this.df.push(0);
      this.lastUnit.push(-1);
      this.stop.push(stop);
      this.numeric.push(numeric);
    }
    return id;
  }
}

/**
 * Score every unit in one pass over the text's words: rarity (mean inverse document frequency), position,
 * paragraph openings, a near-duplicate penalty and, with a query, relevance to the query's words.
 */
export function scoreUnits(
  text: string,
  units: readonly Unit[],
  query: string | undefined,
  mandatory: boolean,
): Scores {
  const n = units.length;
  const duplicate = new Uint8Array(n);
  const near = new Uint8Array(n);
  const seen = new Set<string>();
  const shapes = new Set<number>();
  const vocabulary = new Vocabulary();
  const flatWords: number[] = [];
  const wordOffsets = new Int32Array(n + 1);

  const { df, lastUnit, stop, numeric } = vocabulary;
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    wordOffsets[i] = flatWords.length;
    const raw = text.slice(unit.start, unit.end);
    const key = exactKey(raw);
    if (seen.has(key)) {
      duplicate[i] = 1;
      continue;
    }
    seen.add(key);
    // Two 26-bit rolling hashes of the word sequence, digits masked, form the near-duplicate shape.
    let shapeHigh = 17;
    let shapeLow = 29;
    const words = raw.match(TEXT_WORD);
    if (words !== null) {
      for (const word of words) {
        const id = vocabulary.idOf(word);
        const token = numeric[id] ? 0 : id + 1;
        shapeHigh = (Math.imul(shapeHigh, 31) + token) & 0x3ffffff;
        shapeLow = (Math.imul(shapeLow, 131) + token) & 0x3ffffff;
        if (stop[id]) continue;
        if (lastUnit[id] !== i) {
          lastUnit[id] = i;
          df[id] = df[id]! + 1;
        }
        flatWords.push(id);
      }
    }
    if (unit.critical === null) {
      const shape = shapeHigh * 0x4000000 + shapeLow;
      if (shapes.has(shape)) near[i] = 1;
      else shapes.add(shape);
    }
  }
  wordOffsets[n] = flatWords.length;

  const idf = vocabulary.df.map((count) => (count > 0 ? Math.log(n / count) : 0));
  const queryWeights = weighQuery(query, vocabulary, idf);
  const rarity = new Float64Array(n);
  let maxRarity = 0;
  for (let i = 0; i < n; i++) {
    const from = wordOffsets[i]!;
    const to = wordOffsets[i + 1]!;
    if (to === from) continue;
    let sum = 0;
    for (let k = from; k < to; k++) sum += idf[flatWords[k]!]!;
    const value = sum / (to - from);
    rarity[i] = value;
    if (value > maxRarity) maxRarity = value;
  }

  const score = new Float64Array(n);
  const queryHit = new Int32Array(queryWeights.size === 0 ? 0 : idf.length).fill(-1);
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    const from = wordOffsets[i]!;
    const to = wordOffsets[i + 1]!;
    const x = n > 1 ? i / (n - 1) : 0;
    let base =
      (maxRarity > 0 ? (RARITY_WEIGHT * rarity[i]!) / maxRarity : 0) +
      START_BONUS * (1 - x) ** POSITION_EXPONENT +
      END_BONUS * x ** POSITION_EXPONENT +
      (unit.leads ? LEAD_BONUS : 0);
    if (to - from < MIN_CONTENT_WORDS) base *= 0.5;
    if (near[i] === 1) base *= NEAR_DUPLICATE_FACTOR;
    let relevance = 0;
    if (queryWeights.size > 0) {
      for (let k = from; k < to; k++) {
        const id = flatWords[k]!;
        const weight = queryWeights.get(id);
        if (weight !== undefined && queryHit[id] !== i) {
          queryHit[id] = i;
          relevance += weight;
        }
      }
    }
    score[i] = base + QUERY_WEIGHT * relevance + (unit.critical !== null && !mandatory ? CRITICAL_BONUS : 0);
  }
  return { score, duplicate };
}

/** Query word ids present in the text, weighted by rarity and normalised to sum to 1. */
function weighQuery(query: string | undefined, vocabulary: Vocabulary, idf: readonly number[]): Map<number, number> {
  const weights = new Map<number, number>();
  const words = query?.toLowerCase().match(WORD) ?? [];
  let total = 0;
  for (const word of words) {
    if (STOPWORDS.has(word)) continue;
    const id = vocabulary.find(stemWord(word));
    if (id === undefined || weights.has(id)) continue;
    // A word in every unit still counts a little: log(n / n) would be 0.
    const weight = (idf[id] ?? 0) + 0.1;
    weights.set(id, weight);
    total += weight;
  }
  for (const [id, weight] of weights) weights.set(id, weight / total);
  return weights;
}

/** Buckets for ordering by score in linear time; finer than any score difference that matters. */
const SCORE_BUCKETS = 4_096;

/** Indices of the eligible units, highest score first, ties in document order (a counting sort: linear). */
export function orderByScore(score: Float64Array, eligible: (index: number) => boolean): Int32Array {
  let max = 0;
  let count = 0;
  for (let i = 0; i < score.length; i++) {
    if (!eligible(i)) continue;
    count++;
    if (score[i]! > max) max = score[i]!;
  }
  const bucketOf = (i: number): number =>
    max > 0 ? SCORE_BUCKETS - 1 - Math.min(SCORE_BUCKETS - 1, Math.floor((score[i]! / max) * (SCORE_BUCKETS - 1))) : 0;
  const starts = new Int32Array(SCORE_BUCKETS + 1);
  for (let i = 0; i < score.length; i++) if (eligible(i)) starts[bucketOf(i) + 1]!++;
  for (let b = 0; b < SCORE_BUCKETS; b++) starts[b + 1]! += starts[b]!;
  const order = new Int32Array(count);
  for (let i = 0; i < score.length; i++) if (eligible(i)) order[starts[bucketOf(i)]!++] = i;
  return order;
}

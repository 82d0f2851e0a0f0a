import { countTokens, O200K_SPLIT, pieceTokens } from './tokens.js';

/** Slices shorter than this are counted directly: there is little of the text's own split to reuse. */
const DIRECT_CHARS = 32;
const WHITESPACE = /\s/;

/**
 * One text split by the o200k pre-tokenizer once, so that the exact count of any slice of it reuses the text's
 * pieces: only the slice's first pieces (until they meet a piece boundary of the text) and its last few
 * characters are split again. A slice is counted exactly as `countTokens(text.slice(start, end))`.
 */
export class TextTokens {
  /** Tokens in the whole text. */
  readonly total: number;
  private readonly text: string;
  /** starts[k] is where piece k begins; starts[pieces] is the text's length. */
  private readonly starts: Int32Array;
  /** before[k] is the number of tokens in pieces 0..k-1. */
  private readonly before: Int32Array;
  private readonly pieces: number;

  constructor(text: string) {
    this.text = text;
    let starts = new Int32Array(Math.max(16, (text.length >> 2) + 1));
    let before = new Int32Array(starts.length);
    let pieces = 0;
    let total = 0;
    const split = O200K_SPLIT;
    split.lastIndex = 0;
    for (let match = split.exec(text); match !== null; match = split.exec(text)) {
      if (pieces + 1 >= starts.length) {
        starts = grow(starts);
        before = grow(before);
      }
      starts[pieces] = match.index;
      before[pieces] = total;
      pieces++;
      total += pieceTokens(match[0]);
    }
    starts[pieces] = text.length;
    before[pieces] = total;
    this.starts = starts;
    this.before = before;
    this.pieces = pieces;
    this.total = total;
  }

  /** Exact o200k tokens of `text.slice(start, end)`. */
  count(start: number, end: number): number {
    const text = this.text;
    if (end - start < DIRECT_CHARS || splitsPair(text, start) || splitsPair(text, end)) {
      return countTokens(text.slice(start, end));
    }
    // Cutting the text short changes a piece only where the end of input is itself a match: `\s+(?!\S)` takes a
    // whole run of whitespace at the end but leaves its last space to the next word elsewhere. A piece that ends by
    // the slice's last non-space character (`limit`) is therefore split in the slice exactly as in the whole text
    // (greedy runs and backtracking stop at the cut as they stopped at the character there).
    let limit = end - 1;
    while (limit >= start && WHITESPACE.test(text[limit]!)) limit--;
    // The slice's first pieces, split from `start` (the text's own pieces may begin before it), until one ends
    // where a piece of the text begins: from there on the two splits agree.
    let count = 0;
    let at = start;
    let piece = this.pieceAt(at);
    // The pre-tokenizer matches at every position, so a search from `at` finds the piece starting there (one regex
    // for both: compiling o200k's Unicode classes twice would cost a new process more than it saves).
    while (piece < 0) {
      O200K_SPLIT.lastIndex = at;
      const match = O200K_SPLIT.exec(text);
      if (match === null || match.index !== at || at + match[0].length > limit) {
        return countTokens(text.slice(start, end));
      }
      count += pieceTokens(match[0]);
      at += match[0].length;
      piece = this.pieceAt(at);
    }
    // The text's pieces that end by `limit`, then the rest of the slice split on its own.
    const through = Math.max(piece, this.lastStartAtOrBefore(limit));
    count += this.before[through]! - this.before[piece]!;
    return count + countTokens(text.slice(this.starts[through]!, end));
  }

  /** The index of the piece that starts at `at`, or -1 if none does. */
  private pieceAt(at: number): number {
    const k = this.lastStartAtOrBefore(at);
    return this.starts[k] === at ? k : -1;
  }

  /** The largest k with starts[k] <= at (0 if none). */
  private lastStartAtOrBefore(at: number): number {
    let low = 0;
    let high = this.pieces;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= at) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

function grow(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(array.length * 2);
  larger.set(array);
  return larger;
}

/** Whether `at` falls between the two halves of a surrogate pair (the slice would hold half a character). */
function splitsPair(text: string, at: number): boolean {
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

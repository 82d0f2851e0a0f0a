import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodeRankTable, RankTable } from './rank-table.js';

/** The o200k rank table written next to this module by the build (see build-rank-file.ts). */
export const RANK_FILE = new URL('./o200k-ranks.bin', import.meta.url);
/** Pieces whose token count is remembered; cleared when full, a bound on memory. */
const PIECE_CACHE_SIZE = 200_000;

/**
 * o200k's pre-tokenizer, spelled as gpt-tokenizer spells it (a test keeps the two equal): written out here because
 * resolving and loading the package's module costs a new `omnimind compress` process more than the regex itself.
 */
export const O200K_SPLIT =
  /[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE]))?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE]))?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

let table: RankTable | undefined;
const pieceCounts = new Map<string, number>();
const encoder = new TextEncoder();
let scratch = new Uint8Array(1_024);

/**
 * The rank table, loaded on first use: read from the build's file, or, when running from source without one,
 * encoded in memory from the tokenizer package's ranks (slower, same table).
 */
function rankTable(): RankTable {
  if (table !== undefined) return table;
  try {
    table = new RankTable(readFileSync(RANK_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const ranks = createRequire(import.meta.url)('gpt-tokenizer/bpeRanks/o200k_base') as { default: string[] };
    table = new RankTable(encodeRankTable(ranks.default));
  }
  return table;
}

/** Exact o200k token count of `text`, treating special-token spellings as plain text. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  let count = 0;
  const split = O200K_SPLIT;
  split.lastIndex = 0;
  for (let match = split.exec(text); match !== null; match = split.exec(text)) count += pieceTokens(match[0]);
  return count;
}

/** Tokens of one piece of the pre-tokenizer's split, remembered across calls. */
export function pieceTokens(piece: string): number {
  let count = pieceCounts.get(piece);
  if (count === undefined) {
    count = countPiece(piece);
    if (pieceCounts.size >= PIECE_CACHE_SIZE) pieceCounts.clear();
    pieceCounts.set(piece, count);
  }
  return count;
}

/** Tokens of one pre-tokenized piece: the whole piece if it is a token, else byte-pair merges by lowest rank. */
function countPiece(piece: string): number {
  const ranks = rankTable();
  if (scratch.length < piece.length * 3) scratch = new Uint8Array(piece.length * 3);
  const length = encoder.encodeInto(piece, scratch).written;
  const bytes = scratch;
  if (ranks.rankOf(bytes, 0, length) >= 0) return 1;
  // starts[i] is where part i begins; pairRanks[i] is the rank of parts i and i + 1 joined.
  const starts: number[] = [];
  const pairRanks: number[] = [];
  const rankAt = (i: number): number => {
    const end = starts[i + 2];
    if (end === undefined) return Number.POSITIVE_INFINITY;
    const rank = ranks.rankOf(bytes, starts[i]!, end);
    return rank < 0 ? Number.POSITIVE_INFINITY : rank;
  };
  for (let i = 0; i <= length; i++) starts.push(i);
  for (let i = 0; i < length; i++) pairRanks.push(rankAt(i));
  while (starts.length > 2) {
    let lowest = Number.POSITIVE_INFINITY;
    let at = -1;
    for (let i = 0; i < pairRanks.length - 1; i++) {
      if (pairRanks[i]! < lowest) {
        lowest = pairRanks[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    starts.splice(at + 1, 1);
    pairRanks.splice(at, 1);
    pairRanks[at] = rankAt(at);
    if (at > 0) pairRanks[at - 1] = rankAt(at - 1);
  }
  return starts.length - 1;
}

import { assembleOutput, startsLine } from './assemble.js';
import { markQueryMentions } from './rarity.js';
import { renderInput } from './render.js';
import { orderByScore, scoreUnits } from './score.js';
import { segmentText } from './segment.js';
import { TextTokens } from './text-tokens.js';
import { countTokens } from './tokens.js';
import type { ChatMessage, CompressOptions, CompressResult, HeaderReport, Unit } from './types.js';

/**
 * A candidate whose length-based estimate exceeds the remaining budget by this factor is skipped without
 * an exact count: per-unit token density varies, but rarely by more than this.
 */
const ESTIMATE_SKIP_FACTOR = 0.6;
/** Stop filling once fewer tokens than this remain: no unit is that small. */
const MIN_FILL_TOKENS = 2;

/** Validate the options, throwing a TypeError that names the option, what it must be and what it got. */
function checkOptions(input: unknown, options: CompressOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected \`options\` to be an object, got \`${String(options)}\``);
  }
  const { targetTokens, preserveCritical, query } = options;
  if (typeof targetTokens !== 'number' || !Number.isInteger(targetTokens) || targetTokens < 1) {
    throw new TypeError(`Expected \`targetTokens\` to be an integer >= 1, got \`${String(targetTokens)}\``);
  }
  if (preserveCritical !== undefined && typeof preserveCritical !== 'boolean') {
    throw new TypeError(`Expected \`preserveCritical\` to be a boolean, got \`${String(preserveCritical)}\``);
  }
  if (query !== undefined && typeof query !== 'string') {
    throw new TypeError(`Expected \`query\` to be a string, got \`${String(query)}\``);
  }
  if (typeof input === 'string') return;
  if (!Array.isArray(input)) {
    throw new TypeError(`Expected \`input\` to be a string or an array of messages, got \`${String(input)}\``);
  }
  input.forEach((message: unknown, index) => {
    const m = message as Partial<ChatMessage> | null;
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new TypeError(
        `Expected \`input[${index}]\` to be a message with string \`role\` and \`content\`, got \`${JSON.stringify(message)}\``,
      );
    }
  });
}

/**
 * Compress a context to at most `targetTokens` o200k tokens. Critical spans (errors and stack traces, code,
 * diffs and SQL, UUIDs and SHAs, decision/requirement markers, every message header, what a query names, and
 * any line with a number, an identifier or a severity word that is rare and unlike its neighbours) are kept
 * verbatim and in order; the rest is deduplicated, scored and filled greedily into the remaining budget. If the critical spans
 * alone exceed the budget, the output holds all of them and `overflow` is true.
 */
export function compress(input: string | readonly ChatMessage[], options: CompressOptions): CompressResult {
  checkOptions(input, options);
  const target = options.targetTokens;
  const mandatoryCritical = options.preserveCritical ?? true;
  const { text, regions } = renderInput(input);
  const units = segmentText(text, regions);
  markQueryMentions(text, units, options.query);
  // Split once: the whole text's count and every unit's count come from the same pieces.
  const tokens = new TextTokens(text);
  const tokensIn = tokens.total;
  const { score, duplicate } = scoreUnits(text, units, options.query, mandatoryCritical);

  const n = units.length;
  // A verbatim repeat is dropped, unless it is a header (each marks a boundary of its own) or a piece of a larger
  // critical span (the last line of a statement, repeated elsewhere, completes this one).
  const sameText = (a: Unit, b: Unit): boolean =>
    a.end - a.start === b.end - b.start && text.startsWith(text.slice(a.start, a.end), b.start);
  const pieceWith = (i: number, j: number): boolean =>
    j >= 0 && j < n && units[j]!.critical !== null && duplicate[j] === 0 && !sameText(units[i]!, units[j]!);
  const spanPiece = (i: number): boolean => pieceWith(i, i - 1) || pieceWith(i, i + 1);
  // Decided once per unit: every pass below asks again.
  const critical = new Uint8Array(n);
  let criticalSpans = 0;
  for (let i = 0; i < n; i++) {
    const kind = units[i]!.critical;
    if (kind !== null && (duplicate[i] === 0 || kind === 'metadata' || spanPiece(i))) {
      critical[i] = 1;
      criticalSpans++;
    }
  }
  const isCritical = (i: number): boolean => critical[i] === 1;

  const finish = (
    output: string,
    tokensOut: number,
    selected: Uint8Array | null,
    overflow: boolean,
  ): CompressResult => {
    let criticalKept = 0;
    const headers: HeaderReport[] = [];
    for (let i = 0; i < n; i++) {
      const kept = selected === null || selected[i] === 1;
      if (isCritical(i) && kept) criticalKept++;
      const unit = units[i]!;
      if (unit.critical === 'metadata') headers.push({ text: text.slice(unit.start, unit.end), kept });
    }
    const reduction = tokensIn === 0 ? 0 : Math.min(1, Math.max(0, 1 - tokensOut / tokensIn));
    return { output, tokensIn, tokensOut, reduction, criticalSpans, criticalKept, overflow, headers };
  };
  if (tokensIn <= target) return finish(text, tokensIn, null, false);

  const costs = new Int32Array(n).fill(-1);
  const costOf = (i: number): number => {
    let cost = costs[i]!;
    if (cost < 0) {
      const unit = units[i]!;
      cost = tokens.count(unit.start, unit.end) + (startsLine(text, unit) ? 1 : 0);
      costs[i] = cost;
    }
    return cost;
  };

  const selected = new Uint8Array(n);
  let mandatoryCost = 0;
  if (mandatoryCritical) {
    for (let i = 0; i < n; i++) {
      if (!isCritical(i)) continue;
      selected[i] = 1;
      mandatoryCost += costOf(i);
    }
    if (mandatoryCost > target) {
      const criticalOnly = assembleOutput(text, units, selected);
      mandatoryCost = countTokens(criticalOnly);
      if (mandatoryCost > target) return finish(criticalOnly, mandatoryCost, selected, true);
    }
  }

  const charsPerToken = text.length / Math.max(1, tokensIn);
  const order = orderByScore(score, (i) => selected[i] === 0 && (duplicate[i] === 0 || isCritical(i)));
  const picked = fillBudget(units, order, selected, target - mandatoryCost, charsPerToken, costOf);
  let output = assembleOutput(text, units, selected);
  let tokensOut = countTokens(output);
  while (tokensOut > target && picked.length > 0) {
    let dropped = 0;
    while (dropped < tokensOut - target && picked.length > 0) {
      const i = picked.pop()!;
      selected[i] = 0;
      dropped += costOf(i);
    }
    output = assembleOutput(text, units, selected);
    tokensOut = countTokens(output);
  }
  return finish(output, tokensOut, selected, tokensOut > target);
}

/** Greedily select units in `order` while they fit in `budget` tokens; returns them in the order picked. */
function fillBudget(
  units: readonly Unit[],
  order: Int32Array,
  selected: Uint8Array,
  budget: number,
  charsPerToken: number,
  costOf: (i: number) => number,
): number[] {
  const picked: number[] = [];
  let remaining = budget;
  for (const i of order) {
    if (remaining < MIN_FILL_TOKENS) break;
    const unit = units[i]!;
    if (((unit.end - unit.start) / charsPerToken) * ESTIMATE_SKIP_FACTOR > remaining) continue;
    const cost = costOf(i);
    if (cost > remaining) continue;
    selected[i] = 1;
    picked.push(i);
    remaining -= cost;
  }
  return picked;
}

import { markCritical, QUANTITY_SOURCE, UNITS_SOURCE } from './critical.js';
import { findHeaderLines } from './headers.js';
import { promoteRare } from './rarity.js';
import type { Region } from './render.js';
import { matchDiff, matchTrace, TRACE_START } from './traces.js';
import type { CriticalKind, Unit } from './types.js';

/**
 * Lines an unterminated code fence may claim (it also stops at the first blank line). CommonMark lets such a
 * fence run to the end of the document; a stray fence in a pasted log would then make everything after it
 * critical, so it is bounded instead and the rest is treated as ordinary text.
 */
export const MAX_OPEN_FENCE_LINES = 50;

/** Lines a wrapped sentence may span before it is cut: keeps units small enough to choose between. */
const MAX_JOIN_LINES = 8;

/** Characters in one unit before a long line (minified JSON, a run-on paragraph) is cut at a comma or space. */
const MAX_UNIT_CHARS = 1_200;

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const BACKTICK = 96;
const TILDE = 126;
const SENTENCE_END = /[.!?]["')\]]*\s+(?=[^\sa-z])/g;
const JOINABLE_END = /[A-Za-z0-9,)`'"]$/;
// What may open the second line of a wrapped sentence: a lowercase word, a path, a number, a quoted or
// bracketed word, or an RFC 2119 keyword ("…every deploy\nMUST wait…").
const CONTINUATION_START = new RegExp(
  String.raw`^(?:[a-z0-9(/~.$€£¥\x60']|(?:MUST|SHALL|SHOULD|REQUIRED|MAY|NOT)\b|(?:${QUANTITY_SOURCE}))`,
);
// A number wrapped away from its unit: "capped at 512" / "MiB per shard".
const ENDS_WITH_NUMBER = /\d$/;
const UNIT_START = new RegExp(String.raw`^(?:%|(?:${UNITS_SOURCE})(?![\w/]))`);
const LOG_LINE = /^\s*(?:\[?\d{4}-\d\d-\d\d|\[?\d\d:\d\d:\d\d|(?:DEBUG|INFO|WARN|WARNING|ERROR|TRACE|FATAL)\b)/;
const BULLET = /^\s*(?:[-*+•]|\d+[.)])\s/;
const ROLE_HEADER =
  /^\s*(?:\*\*|#{1,6}[ \t]*|<\|im_start\|>[ \t]*)?(?:\[[^\]\n]{1,40}\][ \t]*)?(?:system|user|assistant|tool|function|developer|human|ai|model)\b(?:[ \t]*\([^)\n]{0,80}\))?(?:\*\*)?[ \t]*(?::|$)/i;
const RENDERED_HEADER = /^\[role=[^\]\n]*\]\s*$/;
const HEADER_FIRST_CHARS = new Set([...'*#<[sSuUaAtTfFdDhHmM'].map((ch) => ch.charCodeAt(0)));
// Lines that cannot occur inside a code block: a rendered message header or a markdown heading naming a role.
const CHAT_BOUNDARY =
  /^(?:\[role=[^\]\n]*\]\s*$|#{1,6}[ \t]*(?:system|user|assistant|tool|developer)\b|<\|im_start\|>)/i;

/** Split the rendered text into units in document order, classifying each as critical or ordinary. */
export function segmentText(text: string, regions: readonly Region[]): Unit[] {
  const units: Unit[] = [];
  for (const region of regions) {
    if (region.start === region.end) continue;
    if (region.header) units.push({ start: region.start, end: region.end, critical: 'metadata', leads: true });
    else segmentRegion(text, region.start, region.end, units);
  }
  promoteRare(text, units, markCritical(text, units));
  return units;
}

function isSpaceCode(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 160;
}

/** Width of the leading whitespace (a tab counts 4), or -1 for a blank line. */
function indentOf(line: string): number {
  let width = 0;
  for (let k = 0; k < line.length; k++) {
    const code = line.charCodeAt(k);
    if (code === 32) width += 1;
    else if (code === 9) width += 4;
    else if (!isSpaceCode(code)) return width;
  }
  return -1;
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || indentOf(line) < 0;
}

/** Length of a leading chat-role header ("User:", "### assistant (…)", "[role=tool …]"), or -1. */
export function matchRoleHeader(line: string): number {
  const first = line.charCodeAt(line.length - line.trimStart().length);
  // Cheap gate: a header opens with "*", "#", "<", "[" or the first letter of a role name.
  if (!HEADER_FIRST_CHARS.has(first)) return -1;
  if (RENDERED_HEADER.test(line)) return line.length;
  const match = ROLE_HEADER.exec(line);
  return match === null ? -1 : match[0].length;
}

function segmentRegion(text: string, regionStart: number, regionEnd: number, units: Unit[]): void {
  const lines = text.slice(regionStart, regionEnd).split('\n');
  const starts = new Int32Array(lines.length + 1);
  let offset = regionStart;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    starts[i] = offset;
    offset += line.length + 1;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  starts[lines.length] = offset;

  const headerLines = findHeaderLines(lines, isBlank);
  let afterBlank = true;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const indent = indentOf(line);
    if (indent < 0) {
      afterBlank = true;
      i++;
      continue;
    }
    let blockEnd = -1;
    let kind: CriticalKind = 'code';
    const first = line.charCodeAt(line.length - line.trimStart().length);
    const fence = first === BACKTICK || first === TILDE ? FENCE_OPEN.exec(line) : null;
    if (fence !== null) blockEnd = findFenceEnd(lines, i, fence[1]!);
    else {
      blockEnd = matchTrace(lines, i);
      if (blockEnd >= 0) kind = 'trace';
      // A diff opens with "-" or "d"; an indented block only after a blank line.
      else if (first === 45 || first === 100) blockEnd = matchDiff(lines, i);
      if (blockEnd < 0 && afterBlank && indent >= 4) blockEnd = findIndentedEnd(lines, i);
    }
    if (blockEnd >= 0) {
      units.push({ start: starts[i]!, end: starts[blockEnd]! + lines[blockEnd]!.length, critical: kind, leads: true });
      i = blockEnd + 1;
      afterBlank = false;
      continue;
    }
    // A trace or a diff that opens like a header stays whole; a header line is a unit of its own.
    if (headerLines[i] === 1) {
      const start = trimStart(text, starts[i]!, starts[i]! + line.length);
      units.push({ start, end: trimEnd(text, start, starts[i]! + line.length), critical: 'metadata', leads: true });
      i++;
      afterBlank = true;
      continue;
    }
    let from = starts[i]!;
    let leads = afterBlank;
    const header = matchRoleHeader(line);
    if (header >= 0) {
      units.push({ start: from, end: trimEnd(text, from, from + header), critical: 'metadata', leads: true });
      from += header;
      leads = true;
    }
    let last = i;
    while (last + 1 < lines.length && last - i + 1 < MAX_JOIN_LINES && canJoin(lines[last]!, lines[last + 1]!)) last++;
    pushSentences(text, from, starts[last]! + lines[last]!.length, leads, units);
    i = last + 1;
    afterBlank = false;
  }
}

/**
 * The last line of the fenced block opened at `open`: its closing fence (same character, at least as long,
 * nothing after it). The block counts as unterminated if no closer follows, or if first another fence of at
 * least that length opens with an info string (```ts) or a chat header line starts a new message.
 */
function findFenceEnd(lines: readonly string[], open: number, fence: string): number {
  const char = fence[0] === '`' ? '`' : '~';
  const closing = new RegExp(`^ {0,3}${char}{${fence.length},}\\s*$`);
  const reopening = new RegExp(`^ {0,3}${char}{${fence.length},}\\s*[^\\s${char}]`);
  let limit = lines.length;
  for (let j = open + 1; j < lines.length; j++) {
    const line = lines[j]!;
    if (closing.test(line)) return j;
    if (reopening.test(line) || CHAT_BOUNDARY.test(line)) {
      limit = j;
      break;
    }
  }
  let last = open;
  while (last + 1 < limit && last - open + 1 < MAX_OPEN_FENCE_LINES && !isBlank(lines[last + 1])) last++;
  return last;
}

function findIndentedEnd(lines: readonly string[], start: number): number {
  let last = start;
  for (let j = start + 1; j < lines.length; j++) {
    const line = lines[j] ?? '';
    if (isBlank(line)) continue;
    if (indentOf(line) < 4) break;
    last = j;
  }
  return last;
}

/** Whether `next` continues a sentence wrapped at the end of `line`. */
function canJoin(line: string, next: string): boolean {
  const nextIndent = indentOf(next);
  if (nextIndent < 0 || nextIndent >= 4) return false;
  const trimmedLine = line.trimEnd();
  if (!JOINABLE_END.test(trimmedLine)) return false;
  const trimmedNext = next.trimStart();
  const continues =
    CONTINUATION_START.test(trimmedNext) || (ENDS_WITH_NUMBER.test(trimmedLine) && UNIT_START.test(trimmedNext));
  if (!continues) return false;
  if (LOG_LINE.test(line) || LOG_LINE.test(next) || BULLET.test(next) || FENCE_OPEN.test(next)) return false;
  return !TRACE_START.test(trimmedNext) && matchRoleHeader(next) < 0 && !sameRecordShape(line, next);
}

/** Characters of a line's start compared to tell records (log lines, table rows) from wrapped prose. */
const RECORD_PREFIX_CHARS = 24;

/**
 * Whether two lines open the same way with a number or punctuation in it (`10.0.3.1 - - [`, `21m   Normal`,
 * `2026-11-05,yard-8,`): rows of one log or table, each its own unit, whatever the format.
 */
export function sameRecordShape(line: string, next: string): boolean {
  const a = recordShape(line);
  return a !== '' && a === recordShape(next);
}

/** The start of a line with letter runs as "a" and digit runs as "0"; empty if that start is only words. */
function recordShape(line: string): string {
  let shape = '';
  let previous = '';
  const end = Math.min(line.length, RECORD_PREFIX_CHARS);
  let marked = false;
  for (let k = 0; k < end; k++) {
    const code = line.charCodeAt(k);
    let cls: string;
    if (code >= 48 && code <= 57) {
      cls = '0';
      marked = true;
    } else if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95) cls = 'a';
    else if (code === 32 || code === 9) cls = ' ';
    else {
      cls = line[k]!;
      if (cls !== ',' && cls !== '.' && cls !== "'") marked = true;
    }
    if (cls !== previous || (cls !== 'a' && cls !== '0' && cls !== ' ')) shape += cls;
    previous = cls;
  }
  return marked ? shape : '';
}

function trimEnd(text: string, start: number, end: number): number {
  let e = end;
  while (e > start && isSpaceCode(text.charCodeAt(e - 1))) e--;
  return e;
}

function trimStart(text: string, start: number, end: number): number {
  let s = start;
  while (s < end && isSpaceCode(text.charCodeAt(s))) s++;
  return s;
}

/** Push the sentences of [start, end) as units, cutting over-long ones at a comma or space. */
function pushSentences(text: string, start: number, end: number, leads: boolean, units: Unit[]): void {
  const slice = text.slice(start, end);
  let pieceStart = 0;
  let first = leads;
  SENTENCE_END.lastIndex = 0;
  for (let match = SENTENCE_END.exec(slice); match !== null; match = SENTENCE_END.exec(slice)) {
    const boundary = match.index + match[0].length;
    first = pushPiece(text, start + pieceStart, start + boundary, first, units);
    pieceStart = boundary;
  }
  pushPiece(text, start + pieceStart, end, first, units);
}

/** Push [from, to) trimmed, in pieces of at most MAX_UNIT_CHARS; returns whether the next piece still leads. */
function pushPiece(text: string, from: number, to: number, leads: boolean, units: Unit[]): boolean {
  let s = trimStart(text, from, to);
  const e = trimEnd(text, s, to);
  let first = leads;
  while (s < e) {
    const cut = e - s > MAX_UNIT_CHARS ? findCut(text, s, s + MAX_UNIT_CHARS) : e;
    units.push({ start: s, end: trimEnd(text, s, cut), critical: null, leads: first });
    first = false;
    s = trimStart(text, cut, e);
  }
  return first;
}

/** A cut point in (start, limit]: after the last ", " / "; " / "," / space in the second half, else `limit`. */
function findCut(text: string, start: number, limit: number): number {
  const half = start + Math.floor((limit - start) / 2);
  for (const separator of [', ', '; ', ',', ' ']) {
    const at = text.lastIndexOf(separator, limit - separator.length);
    if (at >= half) return at + separator.length;
  }
  return limit;
}

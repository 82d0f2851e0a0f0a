import { MAX_GLOB_ALTERNATIVES, MAX_GLOB_EXPANDED_CHARS, MAX_GLOB_PATTERN_CHARS } from './limits.js';
import { compileSegmentMatcher, type SegmentMatcher, type SegmentToken } from './segment-nfa.js';

/** Tests a slash-separated relative path against a compiled glob. */
export type GlobMatcher = (relativePath: string) => boolean;

const GLOBSTAR = Symbol('globstar');
type Segment = SegmentMatcher | typeof GLOBSTAR;

const POSIX_CLASSES: Record<string, string> = {
  alnum: '\\p{L}\\p{Nl}\\p{Nd}',
  alpha: '\\p{L}\\p{Nl}',
  ascii: '\\x00-\\x7f',
  blank: '\\p{Zs}\\t',
  cntrl: '\\p{Cc}',
  digit: '\\p{Nd}',
  graph: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}',
  lower: '\\p{Ll}',
  print: '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}',
  punct: '\\p{P}',
  space: '\\p{Z}\\t\\r\\n\\v\\f',
  upper: '\\p{Lu}',
  word: '\\p{L}\\p{Nl}\\p{Nd}\\p{Pc}',
  xdigit: 'A-Fa-f0-9',
};

/**
 * Compiles a glob the way minimatch does with `{dot: true}` (the matcher of the reference filesystem server):
 * `*`, `?`, `[…]` (with `!`/`^` negation and `[:alpha:]` classes), `**` as a whole segment, `{a,b}` and `{1..3}`
 * braces, extglobs `@(…)` `*(…)` `+(…)` `?(…)` `!(…)`, `\` escapes, a leading `!` to negate and `#` comments.
 * Matching takes time linear in the path's length for a given pattern (no backtracking; see segment-nfa.ts), and
 * the pattern's size is bounded: at most {@link MAX_GLOB_PATTERN_CHARS} as written and
 * {@link MAX_GLOB_EXPANDED_CHARS} once its braces are expanded.
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern.length > MAX_GLOB_PATTERN_CHARS) {
    throw new Error(
      `Pattern is ${pattern.length} characters long, over the ${MAX_GLOB_PATTERN_CHARS}-character limit; ` +
        'use a shorter pattern',
    );
  }
  if (pattern.startsWith('#')) return () => false;
  let negated = false;
  let body = pattern;
  while (body.startsWith('!')) {
    negated = !negated;
    body = body.slice(1);
  }
  const expanded = expandBraces(body);
  const size = expanded.reduce((total, alternative) => total + alternative.length, 0);
  if (size > MAX_GLOB_EXPANDED_CHARS) {
    throw new Error(
      `Pattern expands through its braces to ${size} characters, over the ${MAX_GLOB_EXPANDED_CHARS}-character ` +
        'limit; use fewer braces or a shorter pattern',
    );
  }
  const alternatives = expanded.map(compileAlternative);
  return (relativePath) => {
    const segments = relativePath.split('/').filter((part, index, all) => part !== '' || index === all.length - 1);
    const matched = alternatives.some((alternative) => matchSegments(alternative, segments));
    return matched !== negated;
  };
}

/** A character test that never holds: what a class with an out-of-order range like `[z-a]` becomes. */
const NEVER = () => false;

/** Any one character of a segment (segments hold no `/`). */
const ANY = () => true;

/** Drops `name/..` pairs (as minimatch does), so `a/../b` means `b`. */
function collapseParents(segments: string[]): string[] {
  const out: string[] = [];
  for (const segment of segments) {
    const previous = out[out.length - 1];
    if (segment === '..' && previous !== undefined && !['..', '.', '**', ''].includes(previous)) out.pop();
    else out.push(segment);
  }
  return out;
}

function compileAlternative(pattern: string): Segment[] {
  return collapseParents(pattern.replace(/\/{2,}/g, '/').split('/')).map((segment) =>
    segment === '**' ? GLOBSTAR : compileSegmentMatcher(parseSegment(segment)),
  );
}

/**
 * Whether the path segments match the pattern segments, `**` standing for any number of whole segments (but a
 * pattern not yet used up never matches an exhausted path, as minimatch has it). Dynamic programming from the
 * end, so each pair of segments is tested once: no blow-up with many `**`.
 */
function matchSegments(pattern: readonly Segment[], path: readonly string[]): boolean {
  // ok[si] for the pattern from `pi + 1` on, rebuilt for `pi` in each step.
  let ok: boolean[] = path.map(() => false);
  ok.push(true);
  for (let pi = pattern.length - 1; pi >= 0; pi--) {
    const segment = pattern[pi]!;
    const here: boolean[] = new Array(path.length + 1).fill(false);
    let rest = ok[path.length]!;
    for (let si = path.length - 1; si >= 0; si--) {
      if (segment === GLOBSTAR) {
        rest = ok[si]! || rest;
        here[si] = rest;
      } else {
        here[si] = ok[si + 1]! && segment(path[si]!);
      }
    }
    ok = here;
  }
  return ok[0]!;
}

function literal(char: string): SegmentToken {
  return { kind: 'char', test: (candidate) => candidate === char };
}

/** Parses one path segment (no slashes), left to right, so `!(…)` takes what follows it as its own rest. */
function parseSegment(segment: string): SegmentToken[] {
  const out: SegmentToken[] = [];
  for (let i = 0; i < segment.length; i++) {
    const char = String.fromCodePoint(segment.codePointAt(i)!);
    const next = segment[i + char.length];
    if (char === '\\' && next !== undefined) {
      const escaped = String.fromCodePoint(segment.codePointAt(i + 1)!);
      out.push(literal(escaped));
      i += escaped.length;
    } else if ('@*+?!'.includes(char) && next === '(') {
      const close = findClosingParen(segment, i + 1);
      if (close === -1) {
        out.push(literal(char));
        continue;
      }
      const alternatives = splitTopLevel(segment.slice(i + 2, close), '|').map(parseSegment);
      if (char === '!') {
        out.push({ kind: 'not', alternatives, rest: parseSegment(segment.slice(close + 1)) });
        return out;
      }
      out.push({ kind: 'group', quantifier: char as '@' | '?' | '*' | '+', alternatives });
      i = close;
    } else if (char === '*') {
      out.push({ kind: 'group', quantifier: '*', alternatives: [[{ kind: 'char', test: ANY }]] });
    } else if (char === '?') {
      out.push({ kind: 'char', test: ANY });
    } else if (char === '[') {
      const parsed = parseClass(segment, i);
      if (parsed === undefined) {
        out.push(literal('['));
      } else {
        out.push({ kind: 'char', test: parsed.test });
        i = parsed.end;
      }
    } else {
      out.push(literal(char));
      i += char.length - 1;
    }
  }
  return out;
}

function findClosingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '(') depth++;
    else if (char === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function splitTopLevel(text: string, separator: string, open = '(', close = ')'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === open) depth++;
    else if (char === close) depth--;
    else if (char === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A test of one character against a regex character class; a class that is no valid regex matches nothing. */
function classTest(source: string): (char: string) => boolean {
  try {
    const regex = new RegExp(`^${source}$`, 'u');
    return (char) => regex.test(char);
  } catch {
    return NEVER;
  }
}

function escapeClassChar(char: string): string {
  return /[\\^\][-]/.test(char) ? `\\${char}` : char;
}

/**
 * Parses `[…]` starting at `open` into a test of one character; undefined when the bracket never closes (then it
 * is a literal `[`). The test is a regex of one character class, which matches in constant time.
 */
function parseClass(text: string, open: number): { test: (char: string) => boolean; end: number } | undefined {
  let i = open + 1;
  let negate = false;
  if (text[i] === '!' || text[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  const first = i;
  for (; i < text.length; i++) {
    const char = text[i]!;
    if (char === ']' && i > first) {
      return { test: classTest(negate ? `[^/${body}]` : `[${body}]`), end: i };
    }
    if (char === '\\' && i + 1 < text.length) {
      body += escapeClassChar(text[i + 1]!);
      i++;
    } else if (char === '[' && text[i + 1] === ':') {
      const close = text.indexOf(':]', i + 2);
      const set = close === -1 ? undefined : POSIX_CLASSES[text.slice(i + 2, close)];
      if (set === undefined) {
        body += '\\[';
      } else {
        body += set;
        i = close + 1;
      }
    } else if (char === '-' && i > first && text[i + 1] !== ']') {
      body += '-';
    } else {
      body += escapeClassChar(char);
    }
  }
  return undefined;
}

/** Expands `{a,b}` lists and `{1..3}` / `{a..c}` sequences like bash (and brace-expansion), nested, left first. */
export function expandBraces(pattern: string): string[] {
  const results: string[] = [];
  const pending = [pattern];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const brace = findExpandableBrace(current);
    if (brace === undefined) {
      results.push(current);
    } else {
      const pre = current.slice(0, brace.open);
      const post = current.slice(brace.close + 1);
      const variants = brace.items.map((item) => pre + item + post);
      for (let i = variants.length - 1; i >= 0; i--) pending.push(variants[i]!);
    }
    if (results.length + pending.length > MAX_GLOB_ALTERNATIVES) {
      throw new Error(
        `Pattern ${JSON.stringify(pattern)} expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives; use fewer braces`,
      );
    }
  }
  return results;
}

function findExpandableBrace(text: string): { open: number; close: number; items: string[] } | undefined {
  for (let open = 0; open < text.length; open++) {
    const char = text[open];
    if (char === '\\') {
      open++;
      continue;
    }
    if (char !== '{' || text[open - 1] === '$') continue;
    const close = findClosingBrace(text, open);
    if (close === -1) return undefined;
    const inner = text.slice(open + 1, close);
    const items = splitTopLevel(inner, ',', '{', '}');
    if (items.length > 1) return { open, close, items };
    const sequence = expandSequence(inner);
    if (sequence !== undefined) return { open, close, items: sequence };
  }
  return undefined;
}

function findClosingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (char === '\\') i++;
    else if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function expandSequence(inner: string): string[] | undefined {
  const numeric = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(inner);
  const alpha = /^([a-zA-Z])\.\.([a-zA-Z])(?:\.\.(-?\d+))?$/.exec(inner);
  const match = numeric ?? alpha;
  if (!match) return undefined;
  const [, startText, endText, stepText] = match as unknown as [string, string, string, string | undefined];
  const start = numeric ? Number(startText) : startText.charCodeAt(0);
  const end = numeric ? Number(endText) : endText.charCodeAt(0);
  const step = Math.max(1, Math.abs(Number(stepText ?? 1)));
  const width = numeric && /^-?0\d/.test(startText + endText) ? Math.max(startText.length, endText.length) : 0;
  const count = Math.floor(Math.abs(end - start) / step) + 1;
  if (count > MAX_GLOB_ALTERNATIVES) {
    throw new Error(`Brace sequence {${inner}} has more than ${MAX_GLOB_ALTERNATIVES} items; use a narrower range`);
  }
  const direction = end >= start ? 1 : -1;
  const items: string[] = [];
  for (let k = 0; k < count; k++) {
    const value = start + direction * step * k;
    items.push(numeric ? String(value).padStart(width, '0') : String.fromCharCode(value));
  }
  return items;
}

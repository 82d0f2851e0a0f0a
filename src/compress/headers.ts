/** Longest line that can be a message header: headers are short, and this bounds the shape work. */
const MAX_HEADER_CHARS = 200;
/** A shape must open this many blocks to be a header: a transcript has many messages. */
const MIN_OPENINGS = 2;
/** Share of a shape's lines that must open a block: a repeated log line opens one now and then, a header always. */
const MIN_OPENING_SHARE = 0.8;

/** The lead of a shape: its markup up to and including the first word. */
const LEAD = /^[^a0]*[a0]/;
/** Markup a header has and a sentence lacks: anything but letters, digits, spaces, commas and full stops. */
const MARKUP = /[^a0 ,.]/;

// Runs of word characters holding a digit, runs of letters and "_", and runs of spaces and tabs, as lineShape
// rewrites them: three native replaces cost a new process far less than a character loop in JavaScript.
const DIGIT_WORD = /\w*\d\w*/g;
const LETTER_WORD = /[A-Za-z_]+/g;
const SPACE_RUN = /[ \t]+/g;
const HAS_DIGIT = /\d/;

/**
 * The shape of a line: each run of letters, digits and "_" becomes "0" if it holds a digit and "a" otherwise,
 * spaces collapse, other characters stay. `### tool:sql · call 3f9a1c · 2026-11-05T03:12Z` and
 * `### tool:shell · call 9be001 · 2026-11-05T04:40Z` share one shape.
 */
export function lineShape(line: string): string {
  return line.trim().replace(DIGIT_WORD, '0').replace(LETTER_WORD, 'a').replace(SPACE_RUN, ' ');
}

/**
 * The keys a line is counted under: its whole shape, and its lead (`### a`, `[0`) when that has markup, since
 * messages of different roles may differ after the lead (one key when the two are the same). Null for a line
 * without a number or markup (prose).
 */
function shapeKeys(line: string): [string] | [string, string] | null {
  if (!HAS_DIGIT.test(line)) return null;
  const shape = lineShape(line);
  if (!MARKUP.test(shape)) return null;
  const lead = LEAD.exec(shape)?.[0] ?? shape;
  return MARKUP.test(lead) ? [`=${shape}`, `<${lead}`] : [`=${shape}`];
}

/**
 * Find message headers by their shape, whatever their format: short lines holding a number (a time, a turn,
 * an id) and some markup that open a block, whose shape recurs and almost always opens a block. Returns 1 per header line.
 */
export function findHeaderLines(lines: readonly string[], isBlank: (line: string | undefined) => boolean): Uint8Array {
  const headers = new Uint8Array(lines.length);
  const keys: Array<[string] | [string, string] | null> = new Array(lines.length).fill(null);
  const total = new Map<string, number>();
  const openings = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const blank = new Uint8Array(lines.length + 1);
  for (let i = 0; i < lines.length; i++) if (isBlank(lines[i])) blank[i] = 1;
  blank[lines.length] = 1;
  const opens = (i: number): boolean => (i === 0 || blank[i - 1] === 1) && blank[i + 1] === 0;
  // First the lines that open a block; then, of the others, only those that start like one count against it.
  const firstChars = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > MAX_HEADER_CHARS || blank[i] === 1 || !opens(i)) continue;
    const pair = shapeKeys(line);
    if (pair === null) continue;
    for (const key of pair) {
      count(openings, key);
      count(total, key);
    }
    keys[i] = pair;
    firstChars.add(line.trimStart().charCodeAt(0));
  }
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (keys[i] !== null || line.length > MAX_HEADER_CHARS || blank[i] === 1) continue;
    if (!firstChars.has(line.trimStart().charCodeAt(0))) continue;
    const pair = shapeKeys(line);
    if (pair === null) continue;
    for (const key of pair) if (openings.has(key)) count(total, key);
  }
  const isHeaderKey = (key: string): boolean => {
    const opened = openings.get(key) ?? 0;
    return opened >= MIN_OPENINGS && opened >= MIN_OPENING_SHARE * (total.get(key) ?? 0);
  };
  for (let i = 0; i < lines.length; i++) if (keys[i]?.some(isHeaderKey)) headers[i] = 1;
  return headers;
}

/**
 * Where the top-level members of a JSON-RPC frame lie, found without parsing it: each span is [start, end) of the
 * member's value as written (-1 when the member is absent). A duplicated member counts as its last occurrence, as in
 * JSON.parse.
 */
export interface FrameShape {
  idStart: number;
  idEnd: number;
  methodStart: number;
  methodEnd: number;
  resultStart: number;
  resultEnd: number;
  errorStart: number;
  errorEnd: number;
  paramsStart: number;
  paramsEnd: number;
  /** The deepest nesting of objects and arrays in the frame (1: a frame of scalars only). */
  depth: number;
  /** Whether `jsonrpc` is written exactly as `"2.0"`. */
  jsonrpc: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Whether a UTF-16 unit is JSON white space. */
function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** The first index from `i` that is not JSON white space. */
function skipSpace(text: string, i: number): number {
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index just past the JSON string that opens at `start`, or -1 when the text ends first. */
export function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return -1;
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    // An even run of backslashes escapes itself, not the quote.
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The deepest nesting `compoundEnd` has seen since it was last reset (the scan is synchronous). */
let deepest = 0;

/** The index just past the object or array that opens at `start`, or -1 when it is not closed. */
function compoundEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i);
      if (i === -1) return -1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** The index just past the value that starts at `start` (string, object, array or scalar), or -1. */
function valueEnd(text: string, start: number): number {
  const code = text.charCodeAt(start);
  if (code === QUOTE) return stringEnd(text, start);
  if (code === OPEN_BRACE || code === OPEN_BRACKET) return compoundEnd(text, start);
  let i = start;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isJsonSpace(c)) break;
    i++;
  }
  return i === start ? -1 : i;
}

/** Whether the text between `start` and `end` holds a backslash. */
function hasEscape(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === BACKSLASH) return true;
  return false;
}

/** The members routing needs, by their keys as written without escapes; a member's index is its number below. */
const MEMBER_KEYS = ['"id"', '"method"', '"result"', '"error"', '"jsonrpc"', '"params"'];
const ID = 0;
const METHOD = 1;
const RESULT = 2;
const ERROR = 3;
const JSONRPC = 4;
const PARAMS = 5;

/** Which member the key between `start` and `end` names (-1: none of them); only an escaped key is decoded. */
function memberAt(text: string, start: number, end: number): number {
  const length = end - start;
  if (hasEscape(text, start, end)) return MEMBER_KEYS.indexOf(JSON.stringify(JSON.parse(text.slice(start, end))));
  for (let m = 0; m < MEMBER_KEYS.length; m++) {
    const key = MEMBER_KEYS[m]!;
    if (key.length === length && text.startsWith(key, start)) return m;
  }
  return -1;
}

/**
 * The top-level members of a frame that routing needs, or undefined when the frame is not one JSON object (unbalanced,
 * unterminated, trailing text). It checks structure, not every token: a frame that passes may still hold a malformed
 * number or literal inside a value, which is forwarded as written.
 */
export function scanFrame(frame: string): FrameShape | undefined {
  const shape: FrameShape = {
    idStart: -1,
    idEnd: -1,
    methodStart: -1,
    methodEnd: -1,
    resultStart: -1,
    resultEnd: -1,
    errorStart: -1,
    errorEnd: -1,
    paramsStart: -1,
    paramsEnd: -1,
    depth: 1,
    jsonrpc: false,
  };
  deepest = 0;
  let i = skipSpace(frame, 0);
  if (frame.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(frame, i + 1);
  if (frame.charCodeAt(i) === CLOSE_BRACE) return skipSpace(frame, i + 1) === frame.length ? shape : undefined;
  for (;;) {
    if (frame.charCodeAt(i) !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = stringEnd(frame, i);
    if (keyEnd === -1) return undefined;
    i = skipSpace(frame, keyEnd);
    if (frame.charCodeAt(i) !== COLON) return undefined;
    const start = skipSpace(frame, i + 1);
    const end = valueEnd(frame, start);
    if (end === -1) return undefined;
    // The six members' keys are 2 to 7 characters long; a longer key matters only if an escape shortens it.
    const keyLength = keyEnd - keyStart - 2;
    if ((keyLength >= 2 && keyLength <= 7) || (keyLength > 7 && hasEscape(frame, keyStart, keyEnd))) {
      switch (memberAt(frame, keyStart, keyEnd)) {
        case ID:
          shape.idStart = start;
          shape.idEnd = end;
          break;
        case METHOD:
          shape.methodStart = start;
          shape.methodEnd = end;
          break;
        case RESULT:
          shape.resultStart = start;
          shape.resultEnd = end;
          break;
        case ERROR:
          shape.errorStart = start;
          shape.errorEnd = end;
          break;
        case PARAMS:
          shape.paramsStart = start;
          shape.paramsEnd = end;
          break;
        case JSONRPC:
          shape.jsonrpc = end - start === 5 && frame.startsWith('"2.0"', start);
          break;
      }
    }
    i = skipSpace(frame, end);
    const code = frame.charCodeAt(i);
    if (code === CLOSE_BRACE) {
      shape.depth = deepest + 1;
      return skipSpace(frame, i + 1) === frame.length ? shape : undefined;
    }
    if (code !== COMMA) return undefined;
    i = skipSpace(frame, i + 1);
  }
}

/**
 * A successful answer to one of the gateway's own requests, when the frame is one: its numeric id and the text of its
 * result as written. Anything else (errors, requests, notifications, string ids, malformed frames) is undefined, for
 * the parsing path.
 */
export function scanResult(frame: string): { id: number; json: string } | undefined {
  const shape = scanFrame(frame);
  if (shape === undefined || !shape.jsonrpc || shape.methodStart !== -1 || shape.errorStart !== -1) return undefined;
  if (shape.resultStart === -1 || shape.idStart === -1) return undefined;
  // A plain positive integer, as the gateway writes its ids: no sign, fraction, exponent or leading zero.
  if (frame.charCodeAt(shape.idStart) === 0x30) return undefined;
  let id = 0;
  for (let i = shape.idStart; i < shape.idEnd; i++) {
    const digit = frame.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    id = id * 10 + digit;
  }
  if (!Number.isSafeInteger(id)) return undefined;
  return { id, json: frame.slice(shape.resultStart, shape.resultEnd) };
}

/**
 * The exact JSON text of the top-level member `id` of a frame, or undefined. It reads only as far as the id, so it
 * also works on the head of a frame too large to parse, and it keeps numbers that JSON.parse would round.
 */
export function readIdText(frame: string): string | undefined {
  let depth = 0;
  let i = 0;
  while (i < frame.length) {
    const code = frame.charCodeAt(i);
    if (code === QUOTE) {
      const end = stringEnd(frame, i);
      if (end === -1) return undefined;
      const isIdKey = depth === 1 && end - i === 4 && frame.startsWith('"id"', i);
      i = end;
      if (!isIdKey) continue;
      i = skipSpace(frame, i);
      if (frame.charCodeAt(i) !== COLON) continue;
      const valueStart = skipSpace(frame, i + 1);
      if (frame.charCodeAt(valueStart) === QUOTE) {
        const end = stringEnd(frame, valueStart);
        return end === -1 ? undefined : frame.slice(valueStart, end);
      }
      i = valueStart;
      while (i < frame.length && !isJsonSpace(frame.charCodeAt(i)) && !',}]'.includes(frame[i]!)) i++;
      return i === frame.length || i === valueStart ? undefined : frame.slice(valueStart, i);
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--;
    i++;
  }
  return undefined;
}

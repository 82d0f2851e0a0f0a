const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OBJECT = 1;
const ARRAY = 2;
/** The containers open at each depth, shared by every check (a check runs to its end synchronously), grown as needed. */
let open = new Uint8Array(64);
/** The characters JSON allows after a backslash, besides `u`. */
const SIMPLE_ESCAPES = '"\\/bfnrt';

/** The first index from `i` that is not JSON white space. */
function skipSpace(text: string, i: number): number {
  for (;;) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return i;
    i++;
  }
}

/** Whether a UTF-16 unit is an ASCII digit (false past the end, where charCodeAt gives NaN). */
function isDigit(code: number): boolean {
  return code >= ZERO && code <= NINE;
}

/** Whether a UTF-16 unit is a hexadecimal digit. */
function isHex(code: number): boolean {
  return isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** The index just past the valid JSON string that opens at `i`, or -1. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; ; j++) {
    const code = text.charCodeAt(j);
    if (code === QUOTE) return j + 1;
    if (code === BACKSLASH) {
      const escaped = text.charCodeAt(++j);
      if (escaped === 0x75) {
        if (!(isHex(text.charCodeAt(j + 1)) && isHex(text.charCodeAt(j + 2)))) return -1;
        if (!(isHex(text.charCodeAt(j + 3)) && isHex(text.charCodeAt(j + 4)))) return -1;
        j += 4;
      } else if (SIMPLE_ESCAPES.indexOf(text[j] ?? '\u0000') === -1) {
        return -1;
      }
    } else if (!(code >= 0x20)) {
      // A control character, or the end of the text (NaN).
      return -1;
    }
  }
}

/** The index just past the valid JSON number that starts at `i`, or -1. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++;
  if (text.charCodeAt(i) === ZERO) i++;
  else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
  else return -1;
  if (text.charCodeAt(i) === DOT) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const exponent = text.charCodeAt(i);
  if (exponent === 0x65 || exponent === 0x45) {
    const sign = text.charCodeAt(++i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/** The index just past an object member's key and its colon, from `i` (white space allowed around both), or -1. */
function keyEnd(text: string, i: number): number {
  i = skipSpace(text, i);
  if (text.charCodeAt(i) !== QUOTE) return -1;
  i = skipSpace(text, stringEnd(text, i));
  return i > 0 && text.charCodeAt(i) === COLON ? i + 1 : -1;
}

/** Opens a container one level deeper; returns the new depth. */
function enter(depth: number, container: number): number {
  if (depth === open.length) {
    const grown = new Uint8Array(open.length * 2);
    grown.set(open);
    open = grown;
  }
  open[depth] = container;
  return depth + 1;
}

/**
 * Whether a text is exactly one JSON value (RFC 8259, as `JSON.parse` reads it), checked without building it: no
 * object, key or string is made, so checking a child's answer costs a scan, not a parse and its garbage.
 */
export function isJsonText(text: string): boolean {
  const valid = check(text);
  // Deep nesting grew the shared stack: it is not kept.
  if (open.length > 4096) open = new Uint8Array(64);
  return valid;
}

/** `isJsonText` on the shared stack. */
function check(text: string): boolean {
  let depth = 0;
  let i = 0;
  for (;;) {
    // A value is expected at i.
    i = skipSpace(text, i);
    const code = text.charCodeAt(i);
    if (code === OPEN_BRACE) {
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === CLOSE_BRACE) {
        i++;
      } else {
        depth = enter(depth, OBJECT);
        i = keyEnd(text, i);
        if (i === -1) return false;
        continue;
      }
    } else if (code === OPEN_BRACKET) {
      i = skipSpace(text, i + 1);
      if (text.charCodeAt(i) === CLOSE_BRACKET) {
        i++;
      } else {
        depth = enter(depth, ARRAY);
        continue;
      }
    } else if (code === QUOTE) {
      i = stringEnd(text, i);
    } else if (code === MINUS || isDigit(code)) {
      i = numberEnd(text, i);
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else {
      return false;
    }
    if (i === -1) return false;
    // The value ended at i: close what it completes, then expect the next member or element.
    for (;;) {
      i = skipSpace(text, i);
      if (depth === 0) return i === text.length;
      const next = text.charCodeAt(i);
      const container = open[depth - 1];
      if (next === COMMA) {
        i = container === OBJECT ? keyEnd(text, i + 1) : i + 1;
        if (i === -1) return false;
        break;
      }
      if (next !== (container === OBJECT ? CLOSE_BRACE : CLOSE_BRACKET)) return false;
      depth--;
      i++;
    }
  }
}

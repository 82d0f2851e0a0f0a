import { describe, expect, it } from 'vitest';
import { isJsonText } from '../../../src/protocol/index.js';

/** What JSON.parse says of a text. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A small deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  '{"content":[{"type":"text","text":"hello"}],"isError":false}',
  ' { "a" : [ 1 , -2.5e+3 , 0 , 0.0 , 1E9 , true , false , null , "x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9" ] } ',
  '[]',
  '{}',
  '[[[[{}]]]]',
  '"just a string"',
  '-0',
  '12345678901234567890',
  '{"deep":{"deeper":{"deepest":[{"k":"\\ud83d\\ude00"}]}}}',
  `"${'\ud800'}lone surrogate"`,
];

const INVALID = [
  '',
  ' ',
  '{',
  '}',
  '{"a":1,}',
  '[1,]',
  '[,1]',
  '{"a" 1}',
  '{"a":}',
  '{a:1}',
  "{'a':1}",
  '01',
  '1.',
  '.5',
  '-',
  '1e',
  '1e+',
  '+1',
  'tru',
  'nul',
  'nulls',
  'True',
  '"unterminated',
  '"bad escape \\q"',
  '"short \\u12"',
  '"tab\tinside"',
  '"newline\ninside"',
  '[1 2]',
  '{"a":1 "b":2}',
  '{} {}',
  '[]]',
  '[}',
  '{]',
  'NaN',
  'Infinity',
  '0x10',
];

describe('isJsonText', () => {
  it('accepts what JSON.parse accepts and refuses what it refuses', () => {
    for (const text of VALID) expect([text, isJsonText(text)]).toEqual([text, true]);
    for (const text of INVALID) expect([text, isJsonText(text)]).toEqual([text, false]);
  });

  it('agrees with JSON.parse on 20,000 mutations of valid documents', () => {
    const next = random(7);
    const alphabet = '{}[]",:0123456789-+.eEtrufalsn \\u\t\n/bx';
    for (let n = 0; n < 20_000; n++) {
      let text = VALID[Math.floor(next() * VALID.length)]!;
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * (text.length + 1));
        const char = alphabet[Math.floor(next() * alphabet.length)]!;
        const kind = next();
        if (kind < 0.34) text = text.slice(0, at) + char + text.slice(at);
        else if (kind < 0.67) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + char + text.slice(at + 1);
      }
      expect([text, isJsonText(text)]).toEqual([text, parses(text)]);
    }
  });

  it('checks nesting far deeper than a recursive parser could', () => {
    const depth = 100_000;
    expect(isJsonText(`${'['.repeat(depth)}${']'.repeat(depth)}`)).toBe(true);
    expect(isJsonText(`${'['.repeat(depth)}${']'.repeat(depth - 1)}`)).toBe(false);
  });
});

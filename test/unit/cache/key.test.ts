import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKey, MAX_PLAIN_KEY_LENGTH, stringifyCanonical } from '../../../src/cache/index.js';

/** The same object with its keys inserted in reverse order, recursively. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).reverse();
  return Object.fromEntries(entries.map(([key, member]) => [key, reverseKeys(member)]));
}

describe('canonical keys', () => {
  it('serialises like JSON.stringify, with object keys sorted at every depth', () => {
    expect(stringifyCanonical({ b: [3, { z: 1, a: null }], a: 'x"y', c: { e: true, d: 1.5 } })).toBe(
      '{"a":"x\\"y","b":[3,{"a":null,"z":1}],"c":{"d":1.5,"e":true}}',
    );
  });

  it('gives equal keys for equal params in any key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (args) => {
        const params = { name: 'tool', arguments: args };
        const reordered = { arguments: reverseKeys(args), name: 'tool' } as Record<string, unknown>;
        expect(deriveKey('child', 'tools/call', reordered)).toBe(deriveKey('child', 'tools/call', params));
        expect(JSON.parse(stringifyCanonical(args))).toEqual(JSON.parse(JSON.stringify(args)));
      }),
    );
  });

  it('leaves out _meta at the top level only', () => {
    const base = deriveKey('child', 'tools/call', { name: 't', arguments: { _meta: 1 } });
    expect(deriveKey('child', 'tools/call', { name: 't', arguments: { _meta: 1 }, _meta: { progressToken: 9 } })).toBe(
      base,
    );
    expect(deriveKey('child', 'tools/call', { name: 't', arguments: { _meta: 2 } })).not.toBe(base);
  });

  it('separates children and methods, and digests long keys', () => {
    expect(deriveKey('a', 'tools/list', {})).not.toBe(deriveKey('b', 'tools/list', {}));
    expect(deriveKey('a', 'tools/list', {})).not.toBe(deriveKey('a', 'prompts/list', {}));
    const long = deriveKey('a', 'tools/call', { name: 't', arguments: { text: 'x'.repeat(MAX_PLAIN_KEY_LENGTH) } });
    expect(long).toMatch(/^\u0000[A-Za-z0-9+/]{27}=$/);
    const other = deriveKey('a', 'tools/call', { name: 't', arguments: { text: 'y'.repeat(MAX_PLAIN_KEY_LENGTH) } });
    expect(other).not.toBe(long);
  });
});

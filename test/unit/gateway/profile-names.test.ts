import { describe, expect, it } from 'vitest';
import { namePattern, profileNames } from '../../../src/gateway/index.js';

const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;

describe('profileNames', () => {
  it('keeps <child>__<name> when it is valid', () => {
    expect(profileNames([{ child: 'git', name: 'status' }])).toEqual(['git__status']);
  });

  it('shortens a long or invalid name deterministically to a valid one', () => {
    const long = { child: 'everything', name: 'x'.repeat(80) };
    const dotted = { child: 'docs', name: 'search.v2' };
    const [a, b] = profileNames([long, dotted]);
    expect(a).toMatch(VALID_NAME);
    expect(a).toHaveLength(64);
    expect(a?.startsWith('everything__xxx')).toBe(true);
    expect(b).toMatch(/^docs__search_v2_[0-9a-f]{6}$/);
    expect(profileNames([long, dotted])).toEqual([a, b]);
  });

  it('never gives two items one name, even when their shortenings would collide', () => {
    const items = [
      { child: 'a', name: `${'y'.repeat(70)}1` },
      { child: 'a', name: `${'y'.repeat(70)}2` },
      { child: 'a', name: 'b.c' },
      { child: 'a', name: 'b_c' },
    ];
    const names = profileNames(items);
    expect(new Set(names).size).toBe(items.length);
    for (const name of names) expect(name).toMatch(VALID_NAME);
    // The valid name keeps its plain form although an invalid one shortens towards it.
    expect(names[3]).toBe('a__b_c');
  });

  it('keeps a valid name stable whatever else is listed before it', () => {
    const alone = profileNames([{ child: 'fs', name: 'read' }]);
    const after = profileNames([
      { child: 'fs', name: 'read!' },
      { child: 'fs', name: 'read' },
    ]);
    expect(after[1]).toBe(alone[0]);
  });
});

describe('namePattern', () => {
  it('matches `*` against any run of characters and nothing else', () => {
    const test = namePattern(['filesystem__write_*', 'git__commit']);
    expect(test('filesystem__write_file')).toBe(true);
    expect(test('git__commit')).toBe(true);
    expect(test('git__commit_all')).toBe(false);
    expect(test('filesystem__read_file')).toBe(false);
    expect(namePattern([])('anything')).toBe(false);
    expect(namePattern(['a.b'])('axb')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { compileGlob, expandBraces, filesystemLimits } from '../../../../src/children/filesystem/index.js';

/** Pattern, path, and what minimatch (with `{dot: true}`, the reference server's matcher) answers. */
const CASES: [string, string, boolean][] = [
  ['*.js', 'a.js', true],
  ['*.js', 'd/a.js', false],
  ['**/*.js', 'a.js', true],
  ['**/*.js', 'd/e/a.js', true],
  ['a/**', 'a', false],
  ['a/**', 'a/b/c', true],
  ['**', '.git', true],
  ['*', '.env', true],
  ['**/c', 'a/.b/c', true],
  ['a{b,c}', 'ac', true],
  ['a{b', 'a{b', true],
  ['{a}', '{a}', true],
  ['{a}', 'a', false],
  ['file{1..3}.txt', 'file2.txt', true],
  ['file{1..3}.txt', 'file4.txt', false],
  ['file{01..10}.txt', 'file05.txt', true],
  ['x{a,b{c,d}}y', 'xbdy', true],
  ['+(a|b)c', 'abc', true],
  ['@(foo|bar).js', 'baz.js', false],
  ['*(x)y', 'xxy', true],
  ['?(q)z', 'z', true],
  ['**/!(*.md)', 'd/b.txt', true],
  ['**/!(*.md)', 'd/a.md', false],
  ['!x', 'x', false],
  ['!x', 'y', true],
  ['#x', 'x', false],
  ['[!a]*', 'bc', true],
  ['[!a]*', 'ac', false],
  ['[[:digit:]]*', '1abc', true],
  ['[a-c]*.log', 'd.log', false],
  ['a\\*', 'a*', true],
  ['a\\*', 'aX', false],
  ['a//b', 'a/b', true],
  ['a/../b', 'b', true],
  ['./a', 'a', false],
  ['[z-a]', 'b', false],
  ['+(a|aa)b', 'aaab', true],
  ['+(a|aa)b', 'b', false],
  ['*(ab)', 'ababab', true],
  ['*(ab)', 'aba', false],
  ['?(a|b)c', 'abc', false],
  ['a!(b)c', 'abc', false],
  ['a!(b)c', 'ac', true],
  ['a!(b)c', 'axc', true],
  ['@(a|!(b))c', 'xc', true],
  ['+(a|!(b))', 'ba', true],
  ['+(a|!(b))', 'b', false],
  ['*a*a*a*b', 'aaab', true],
  ['*a*a*a*b', 'aab', false],
  ['@(a|b)*(c|d)+(e)', 'bcdcee', true],
  ['**/a/**/b', 'x/a/y/z/b', true],
  ['a/**/b', 'a/b', true],
  ['[[:upper:]]*', 'Éa', true],
  ['?', 'é', true],
];

describe('compileGlob', () => {
  it.each(CASES)('%s against %s is %s, as minimatch says', (pattern, path, expected) => {
    expect(compileGlob(pattern)(path)).toBe(expected);
  });

  it('answers patterns that make backtracking matchers blow up, and right', () => {
    const name = 'a'.repeat(255);
    expect(compileGlob(`${'*a'.repeat(300)}*b`)(name)).toBe(false);
    expect(compileGlob(`${'*a'.repeat(200)}*b`)(`${name}b`)).toBe(true);
    expect(compileGlob(`${'+(a|aa)'.repeat(100)}b`)(name)).toBe(false);
    expect(compileGlob('*(*(*(*(*(*(*(*(a))))))))b')(name)).toBe(false);
    expect(compileGlob(`@(!(${'*a'.repeat(100)}*b))`)(name)).toBe(true);
    const deep = Array.from({ length: 200 }, () => 'a').join('/');
    expect(compileGlob(`${'**/'.repeat(300)}b`)(deep)).toBe(false);
    expect(compileGlob(`${'**/'.repeat(300)}a`)(deep)).toBe(true);
  });

  it('refuses a pattern past the length limit, saying so', () => {
    expect(() => compileGlob('*'.repeat(filesystemLimits.MAX_GLOB_PATTERN_CHARS + 1))).toThrow(
      /over the 1000-character limit; use a shorter pattern/,
    );
    expect(compileGlob('*'.repeat(filesystemLimits.MAX_GLOB_PATTERN_CHARS))('abc')).toBe(true);
    expect(() => compileGlob(`${'{a,b}'.repeat(8)}${'*a'.repeat(400)}`)).toThrow(
      /expands through its braces to \d+ characters, over the 4000-character limit/,
    );
  });

  it('refuses braces that expand past the alternatives cap', () => {
    expect(() => compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}')).toThrow(/more than 256 alternatives/);
    expect(() => expandBraces('{1..100000}')).toThrow(/more than 256 items/);
  });
});

import { describe, expect, it } from 'vitest';
import { compileGlob, expandBraces } from '../../../../src/children/filesystem/index.js';

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
];

describe('compileGlob', () => {
  it.each(CASES)('%s against %s is %s, as minimatch says', (pattern, path, expected) => {
    expect(compileGlob(pattern)(path)).toBe(expected);
  });

  it('refuses braces that expand past the alternatives cap', () => {
    expect(() => compileGlob('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}')).toThrow(/more than 256 alternatives/);
    expect(() => expandBraces('{1..100000}')).toThrow(/more than 256 items/);
  });
});

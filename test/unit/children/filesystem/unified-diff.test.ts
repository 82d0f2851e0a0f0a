import { describe, expect, it } from 'vitest';
import {
  applyTextEdits,
  createUnifiedPatch,
  diffLines,
  formatEditDiff,
} from '../../../../src/children/filesystem/index.js';

describe('createUnifiedPatch', () => {
  it('writes jsdiff’s format: index line, rule, headers and hunks with four lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', ''].join('\n');
    const after = before.replace('5\n', 'five\n');
    expect(createUnifiedPatch('/f', before, after, 'original', 'modified')).toBe(
      [
        'Index: /f',
        '===================================================================',
        '--- /f\toriginal',
        '+++ /f\tmodified',
        '@@ -1,9 +1,9 @@',
        ' 1',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        ' 9',
        '',
      ].join('\n'),
    );
  });

  it('marks a last line without a newline and counts empty sides from line zero', () => {
    expect(createUnifiedPatch('f', 'a', 'a\nb', 'o', 'm')).toBe(
      'Index: f\n===================================================================\n--- f\to\n+++ f\tm\n' +
        '@@ -1,1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n\\ No newline at end of file\n',
    );
    expect(createUnifiedPatch('f', '', 'x\n', 'o', 'm')).toContain('@@ -0,0 +1,1 @@\n+x\n');
  });

  it('falls back to one replaced block past the edit-length cap, still a correct script', () => {
    const before = 'keep\na\nb\nc\nend\n';
    const after = 'keep\nx\ny\nz\nend\n';
    const changes = diffLines(before, after, 1);
    expect(changes.map((change) => [change.added, change.removed, change.lines.join('')])).toEqual([
      [false, false, 'keep\n'],
      [false, true, 'a\nb\nc\n'],
      [true, false, 'x\ny\nz\n'],
      [false, false, 'end\n'],
    ]);
  });
});

describe('applyTextEdits', () => {
  it('replaces the first exact match, then matches line by line ignoring indentation', () => {
    const source = 'function f() {\n    if (x) {\n        go();\n    }\n}\n';
    const edited = applyTextEdits(source, [
      { oldText: 'if (x) {\n  go();\n}', newText: 'if (y) {\n  stop();\n}' },
      { oldText: 'function f', newText: 'function g' },
    ]);
    // Like the reference: the first line takes the matched indentation, later lines keep their relative indent.
    expect(edited).toBe('function g() {\n    if (y) {\n    stop();\n}\n}\n');
  });

  it('normalizes CRLF and names the edit that matched nothing', () => {
    expect(applyTextEdits('a\r\nb\r\n', [{ oldText: 'b\r\n', newText: 'c\n' }])).toBe('a\nc\n');
    expect(() => applyTextEdits('a', [{ oldText: 'zzz', newText: '' }])).toThrow(
      'Could not find exact match for edit:\nzzz',
    );
  });

  it('cuts a long diff at a line boundary and says how much was left out', () => {
    const after = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
    const diff = formatEditDiff('f', '', after, 300);
    const body = diff.split('\n');
    expect(diff.length).toBeLessThan(400);
    expect(body.at(-4)).toMatch(/^\[diff truncated: \d+ more characters not shown\]$/);
    expect(body.at(-3)).toBe('```');
  });

  it('fences the diff with more backticks than the diff holds', () => {
    expect(formatEditDiff('f', 'a\n', '```\n')).toMatch(/^````diff\n[\s\S]*\n````\n\n$/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSample } from '../../../bench/compress/generate.js';
import { generateTranscript } from '../../../bench/compress/generate-transcripts.js';
import { renderInput } from '../../../src/compress/render.js';
import { segmentText } from '../../../src/compress/segment.js';
import { TextTokens } from '../../../src/compress/text-tokens.js';
import { countTokens } from '../../../src/compress/tokens.js';

/** Text rich in what decides the pre-tokenizer's pieces: case changes, contractions, marks, digits, whitespace runs. */
const tricky = fc
  .array(
    fc.oneof(
      fc.constantFrom(' ', '  ', '\n', '\n\n', ' \n ', '\t', '\r\n', '\u00a0', "'s", "'LL", "n't", "'re"),
      fc.constantFrom('word', 'Word', 'WORD', 'wORd', 'ʰ', 'Aʰ', 'ǅx', 'é', 'e\u0301', '日本語', '😀', '12345', '3.14'),
      fc.constantFrom('.', '...', '/', '//', '(', ')', '->', ' --', '"', '`', ',', '!?', '#'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    ),
    { minLength: 15, maxLength: 60, size: 'max' },
  )
  .map((parts) => parts.join(''));

describe('TextTokens', () => {
  it('counts the whole text as countTokens does', () => {
    const { text } = generateTranscript(5, 3_000);
    expect(new TextTokens(text).total).toBe(countTokens(text));
  });

  it('counts every slice exactly as countTokens counts the slice (property)', () => {
    // Every end position of the text, from a few starts: slices that end inside whitespace runs, contractions,
    // words and marks are what a shortcut would get wrong.
    const cases = tricky.chain((text) => fc.tuple(fc.constant(text), fc.nat(text.length), fc.nat(text.length)));
    fc.assert(
      fc.property(cases, ([text, a, b]) => {
        const tokens = new TextTokens(text);
        for (const start of [0, Math.min(a, b)]) {
          for (let end = start; end <= text.length; end++) {
            expect(tokens.count(start, end)).toBe(countTokens(text.slice(start, end)));
          }
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("counts every unit of both generators' contexts exactly", () => {
    const texts = [renderInput(generateSample(17, 20_000).input).text, generateTranscript(1_000_017, 20_000).text];
    for (const text of texts) {
      const tokens = new TextTokens(text);
      const units = segmentText(text, [{ start: 0, end: text.length, header: false }]);
      const wrong = units.filter(
        (unit) => tokens.count(unit.start, unit.end) !== countTokens(text.slice(unit.start, unit.end)),
      );
      expect(wrong).toEqual([]);
      expect(units.length).toBeGreaterThan(500);
    }
  });
});

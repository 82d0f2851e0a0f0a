import { describe, expect, it } from 'vitest';
import { compress, countTokens, MAX_OPEN_FENCE_LINES } from '../../../src/compress/index.js';
import { noiseProse, normalise } from './fixtures.js';

describe('adversarial input', () => {
  it('bounds an unterminated fence at its first blank line instead of swallowing the rest', () => {
    const stray = '```python\ndef retry_budget():\n    return 3';
    const fact = 'Rollback owner: see ticket 7c9e6679-7425-40de-944b-e07fc1f90ae7.';
    const input = `${noiseProse(10, 1)}\n\n${stray}\n\n${noiseProse(200, 2)}\n\n${fact}`;
    const budget = countTokens(stray) + countTokens(fact) + 40;
    const result = compress(input, { targetTokens: budget });
    expect(result.overflow).toBe(false);
    expect(result.tokensOut).toBeLessThanOrEqual(budget);
    expect(result.criticalSpans).toBe(2);
    expect(result.output).toContain(stray);
    expect(result.output).toContain(fact);
    expect(result.reduction).toBeGreaterThan(0.9);
  });

  it(`bounds an unterminated fence with no blank line to ${MAX_OPEN_FENCE_LINES} lines`, () => {
    const lines = Array.from({ length: 400 }, (_, i) => `row ${i} of the pasted dump goes here`);
    const input = `\`\`\`\n${lines.join('\n')}`;
    const result = compress(input, { targetTokens: 2_000 });
    expect(result.overflow).toBe(false);
    expect(result.output).toContain(`row ${MAX_OPEN_FENCE_LINES - 2} of the pasted dump`);
    expect(result.tokensOut).toBeLessThanOrEqual(2_000);
    expect(result.tokensIn).toBeGreaterThan(3_000);
  });

  it('ends an unterminated fence where a new labelled fence opens', () => {
    const stray = '```\nleft open';
    const code = '```ts\nconst limit = 5;\n```';
    // Paired naively, the stray fence would close at the end of the labelled block and swallow the prose.
    const input = `${stray}\n\n${noiseProse(40, 3)}\n\n${code}\n\n${noiseProse(40, 4)}`;
    const budget = countTokens(`${stray}\n${code}`) + 20;
    const result = compress(input, { targetTokens: budget });
    expect(result.overflow).toBe(false);
    expect(result.criticalSpans).toBe(2);
    expect(result.output).toContain(code);
    expect(result.output).toContain(stray);
  });

  it('keeps a fenced block that directly follows a header line', () => {
    const code = '```ts\nconst limit = 67;\nlet total = 0;\n```';
    const input = `${noiseProse(30, 17)}\n\n### user (2025-03-27T23:14:38Z)\n${code}\n\n${noiseProse(30, 18)}`;
    const result = compress(input, { targetTokens: countTokens(code) + 40 });
    expect(result.output).toContain(`### user (2025-03-27T23:14:38Z)\n${code}`);
  });

  it('keeps near-duplicate facts that differ in one digit, and keeps both in order', () => {
    const first = 'Replica lag alarm threshold is 250 ms on db-3.';
    const second = 'Replica lag alarm threshold is 251 ms on db-3.';
    const input = `${noiseProse(30, 5)}\n${first}\n${noiseProse(30, 6)}\n${second}\n${noiseProse(30, 7)}`;
    const result = compress(input, { targetTokens: countTokens(`${first}\n${second}`) + 10 });
    expect(result.criticalSpans).toBe(2);
    const output = normalise(result.output);
    expect(output).toContain(first);
    expect(output).toContain(second);
    expect(output.indexOf(first)).toBeLessThan(output.indexOf(second));
  });

  it('keeps a fact whose number and unit are split across lines', () => {
    const fact = 'The shared pool on the primary region is capped at 640\nMiB per shard and\nnever grows beyond that.';
    const input = `${noiseProse(40, 8)}\n\n${fact}\n\n${noiseProse(40, 9)}`;
    const result = compress(input, { targetTokens: countTokens(fact) + 10 });
    expect(result.overflow).toBe(false);
    expect(normalise(result.output)).toContain(normalise(fact));
  });

  it('keeps a requirement whose marker and subject sit on different lines', () => {
    const fact = 'The security team asked that every deploy\nMUST wait for the signature check to pass.';
    const input = `${noiseProse(40, 10)}\n\n${fact}\n\n${noiseProse(40, 11)}`;
    const result = compress(input, { targetTokens: countTokens(fact) + 10 });
    expect(normalise(result.output)).toContain(normalise(fact));
  });

  it('keeps plain-text chat headers while dropping their filler', () => {
    const input = [
      '### user (2025-03-01T10:00:00Z)',
      noiseProse(20, 12),
      'Assistant:',
      noiseProse(20, 13),
      '[role=tool timestamp=2025-03-01T10:00:09Z]',
      noiseProse(20, 14),
    ].join('\n');
    const result = compress(input, { targetTokens: 60 });
    expect(result.overflow).toBe(false);
    for (const header of [
      '### user (2025-03-01T10:00:00Z)',
      'Assistant:',
      '[role=tool timestamp=2025-03-01T10:00:09Z]',
    ]) {
      expect(result.output).toContain(header);
    }
  });

  it('does not mistake "and/or" or "km/h" in prose for paths', () => {
    const input = `${noiseProse(20, 15)}\nUse one and/or two of them, at walking speed in km/h.\n${noiseProse(20, 16)}`;
    const result = compress(input, { targetTokens: 1_000 });
    expect(result.criticalSpans).toBe(0);
  });

  it('survives special-token spellings and a single enormous line', () => {
    const line = `${'{"k":"value","n":1},'.repeat(3_000)}<|endoftext|>`;
    const result = compress(line, { targetTokens: 500 });
    expect(result.overflow).toBe(false);
    expect(result.tokensOut).toBeLessThanOrEqual(500);
    expect(result.tokensOut).toBeGreaterThan(0);
  });
});

import fc from 'fast-check';
import { countTokens as referenceCount } from 'gpt-tokenizer/encoding/o200k_base';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { describe, expect, it } from 'vitest';
import { generateTranscript } from '../../../bench/compress/generate-transcripts.js';
import { type ChatMessage, compress, countTokens } from '../../../src/compress/index.js';
import { O200K_SPLIT } from '../../../src/compress/tokens.js';
import { embed, noiseProse, normalise } from './fixtures.js';

describe('compress options', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', undefined]) {
    it(`rejects targetTokens = ${String(bad)} with a TypeError naming the option`, () => {
      expect(() => compress('some text', { targetTokens: bad as number })).toThrow(
        new TypeError(`Expected \`targetTokens\` to be an integer >= 1, got \`${String(bad)}\``),
      );
    });
  }

  it('rejects a non-string query and malformed messages', () => {
    expect(() => compress('text', { targetTokens: 5, query: 3 as unknown as string })).toThrow(TypeError);
    expect(() => compress([{ role: 'user' }] as unknown as ChatMessage[], { targetTokens: 5 })).toThrow(
      /Expected `input\[0\]` to be a message/,
    );
  });
});

describe('countTokens', () => {
  it('counts o200k tokens and treats special-token spellings as text', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('before <|endoftext|> after')).toBeGreaterThan(3);
  });

  it("splits text with the tokenizer package's own o200k pre-tokenizer", () => {
    expect(O200K_SPLIT.source).toBe(O200K_TOKEN_SPLIT_REGEX.source);
    expect(O200K_SPLIT.flags).toBe(O200K_TOKEN_SPLIT_REGEX.flags);
  });

  const plain = { disallowedSpecial: new Set<string>() };

  it('counts exactly as the o200k reference tokenizer on any text (property)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.stringMatching(/^[\w .,:;'"()\n\t-]{0,200}$/),
    );
    fc.assert(
      fc.property(text, (value) => countTokens(value) === referenceCount(value, plain)),
      { numRuns: 400, seed: 11 },
    );
  });

  it('counts exactly as the o200k reference tokenizer on whole transcripts', () => {
    const { text } = generateTranscript(3, 5_000);
    expect(countTokens(text)).toBe(referenceCount(text, plain));
  });
});

describe('compress', () => {
  it('returns input that already fits unchanged', () => {
    const input = 'A short note.\n\nTODO: nothing else.';
    const result = compress(input, { targetTokens: 1_000 });
    expect(result.output).toBe(input);
    expect(result.tokensOut).toBe(result.tokensIn);
    expect(result.reduction).toBe(0);
    expect(result.criticalSpans).toBe(1);
    expect(result.criticalKept).toBe(1);
  });

  it('reports exact whole-string token counts and the reduction', () => {
    const input = noiseProse(200, 3);
    const result = compress(input, { targetTokens: 300 });
    expect(result.tokensIn).toBe(countTokens(input));
    expect(result.tokensOut).toBe(countTokens(result.output));
    expect(result.tokensOut).toBeLessThanOrEqual(300);
    expect(result.tokensOut).toBeGreaterThan(200);
    expect(result.reduction).toBeCloseTo(1 - result.tokensOut / result.tokensIn, 10);
  });

  it('stays within the budget whenever it does not overflow (property)', () => {
    const piece = fc.constantFrom(
      noiseProse(6, 1),
      noiseProse(3, 2),
      'ERROR [db] connection refused after 3 retries',
      'The job id is 5f0c1e2a-93b4-4d6e-8f70-112233445566.',
      '```sh\nmake build\n```',
      '{\n  "status": "ok",\n  "count": 3\n}',
      'INFO heartbeat ok',
      'Latency rose to 250 ms at peak.',
      'short',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 400 }),
        (pieces, target) => {
          const input = pieces.join('\n\n');
          const result = compress(input, { targetTokens: target });
          expect(result.tokensOut).toBe(countTokens(result.output));
          if (!result.overflow) expect(result.tokensOut).toBeLessThanOrEqual(target);
          expect(result.criticalKept).toBe(result.criticalSpans);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('is deterministic', () => {
    const input = embed(['ERROR [api] upstream timeout after 30 s', 'NOTE: keep the old endpoint.'], 30);
    const first = compress(input, { targetTokens: 150, query: 'endpoint timeout' });
    const second = compress(input, { targetTokens: 150, query: 'endpoint timeout' });
    expect(second).toEqual(first);
  });

  it('keeps the output in the original order', () => {
    const lines = Array.from(
      { length: 60 },
      (_, i) => `Line ${String.fromCharCode(65 + (i % 26))}${i} tells part ${i} of the story.`,
    );
    const result = compress(lines.join('\n'), { targetTokens: 120 });
    const kept = result.output.split('\n').map((line) => lines.indexOf(line));
    expect(kept.every((index) => index >= 0)).toBe(true);
    expect([...kept].sort((a, b) => a - b)).toEqual(kept);
  });

  it('removes exact and near duplicates before anything else', () => {
    const repeated = 'INFO [worker-1] heartbeat ok, queue depth 4';
    const nearRepeats = Array.from({ length: 30 }, (_, i) => `INFO [worker-1] heartbeat ok, queue depth ${i}`);
    const unique = noiseProse(8, 5);
    const input = [...Array.from({ length: 40 }, () => repeated), ...nearRepeats, unique].join('\n');
    const result = compress(input, { targetTokens: countTokens(unique) + 40 });
    expect(result.output.split(repeated).length - 1).toBe(1);
    const heartbeats = result.output.split('\n').filter((line) => line.includes('heartbeat')).length;
    expect(heartbeats).toBeLessThan(8);
    for (const sentence of unique.split(/(?<=\.)\s+/)) expect(normalise(result.output)).toContain(sentence);
  });

  it('keeps what matches the query', () => {
    const database = 'The database replica needs a vacuum every night to keep index bloat down.';
    const frontend = 'The frontend bundle should lazy-load the chart widgets to cut first paint.';
    const input = [noiseProse(20, 9), database, noiseProse(20, 10), frontend, noiseProse(20, 11)].join('\n\n');
    const budget = countTokens(database) + 6;
    const byDatabase = compress(input, { targetTokens: budget, query: 'database vacuum' });
    const byFrontend = compress(input, { targetTokens: budget, query: 'frontend bundle' });
    expect(byDatabase.output).toContain(database);
    expect(byDatabase.output).not.toContain(frontend);
    expect(byFrontend.output).toContain(frontend);
    expect(byFrontend.output).not.toContain(database);
  });

  it('renders messages with a metadata header each and keeps every header', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: noiseProse(12, 1) },
      { role: 'user', content: noiseProse(12, 2), timestamp: '2025-03-01T10:00:00Z' },
      {
        role: 'tool',
        name: 'search',
        toolCallId: 'call_8f2a',
        timestamp: '2025-03-01T10:00:05Z',
        content: noiseProse(12, 3),
      },
      { role: 'assistant', content: `${noiseProse(12, 4)}\n\nDECISION: ship on Friday.` },
    ];
    const result = compress(messages, { targetTokens: 120 });
    const headers = [
      '[role=system]',
      '[role=user timestamp=2025-03-01T10:00:00Z]',
      '[role=tool name=search toolCallId=call_8f2a timestamp=2025-03-01T10:00:05Z]',
      '[role=assistant]',
    ];
    expect(result.overflow).toBe(false);
    let cursor = 0;
    for (const header of headers) {
      const at = result.output.indexOf(header, cursor);
      expect(at, header).toBeGreaterThanOrEqual(cursor);
      cursor = at + header.length;
    }
    expect(result.output).toContain('DECISION: ship on Friday.');
    expect(result.criticalSpans).toBe(5);
  });

  it('quotes header values that hold spaces', () => {
    const result = compress([{ role: 'tool', name: 'web search', content: 'ok' }], { targetTokens: 50 });
    expect(result.output).toBe('[role=tool name="web search"]\nok');
  });

  it('returns every critical span with overflow set when they alone exceed the budget', () => {
    const spans = [
      'ERROR [api] upstream returned 502 for order 4411',
      'The deploy key lives in /etc/deploy/keys/primary.pem on the bastion.',
      'Each shard is capped at 768 MiB and 4 cores.',
      'TODO: rotate the signing key before March.',
    ];
    const input = embed(spans, 20);
    const result = compress(input, { targetTokens: 20 });
    expect(result.overflow).toBe(true);
    expect(result.tokensOut).toBeGreaterThan(20);
    expect(result.criticalSpans).toBe(spans.length);
    expect(result.criticalKept).toBe(spans.length);
    for (const span of spans) expect(result.output).toContain(span);
    expect(result.tokensOut).toBe(countTokens(result.output));
    expect(result.output).not.toContain('heartbeat');
    expect(result.tokensOut).toBeLessThan(countTokens(spans.join('\n')) + spans.length);
  });

  it('may drop critical spans to meet the budget when preserveCritical is false', () => {
    const spans = ['ERROR [api] upstream returned 502', 'TODO: rotate the key.', 'NOTE: the cache is 2 GiB.'];
    const result = compress(embed(spans, 20), { targetTokens: 12, preserveCritical: false });
    expect(result.overflow).toBe(false);
    expect(result.tokensOut).toBeLessThanOrEqual(12);
    expect(result.criticalKept).toBeGreaterThanOrEqual(1);
    expect(result.criticalKept).toBeLessThan(result.criticalSpans);
  });

  it('handles empty input', () => {
    expect(compress('', { targetTokens: 1 })).toEqual({
      output: '',
      tokensIn: 0,
      tokensOut: 0,
      reduction: 0,
      criticalSpans: 0,
      criticalKept: 0,
      overflow: false,
      headers: [],
    });
  });
});

import { describe, expect, it } from 'vitest';
import {
  generateTranscript,
  TRANSCRIPT_BENCH_SEED_BASE,
  TRANSCRIPT_FACT_KINDS,
} from '../../../bench/compress/generate-transcripts.js';
import { compress, countTokens } from '../../../src/compress/index.js';
import { embed, noiseProse, normalise } from './fixtures.js';

/** Seeds this file tunes against; the benchmark's held-out seeds start at TRANSCRIPT_BENCH_SEED_BASE. */
const TUNING_SEEDS = Array.from({ length: 12 }, (_, i) => i + 1);

describe('transcripts of formats the first generator never makes', () => {
  it('uses seeds apart from the benchmark', () => {
    expect(Math.max(...TUNING_SEEDS)).toBeLessThan(TRANSCRIPT_BENCH_SEED_BASE);
  });

  it('keeps every planted fact of every kind and every header, in order, at a quarter of the tokens', () => {
    const found = new Map<string, number>();
    for (const seed of TUNING_SEEDS) {
      const sample = generateTranscript(seed, 10_000, 0.15);
      const target = Math.floor(countTokens(sample.text) * 0.25);
      const result = compress(sample.text, { targetTokens: target });
      expect(result.overflow).toBe(false);
      expect(result.tokensOut).toBeLessThanOrEqual(target);
      const output = normalise(result.output);
      for (const { kind, span } of sample.critical) {
        expect(output, `${kind} (seed ${seed})`).toContain(normalise(span));
        found.set(kind, (found.get(kind) ?? 0) + 1);
      }
      let from = 0;
      for (const header of sample.headers) {
        const at = output.indexOf(normalise(header), from);
        expect(at, `header ${header} (seed ${seed})`).toBeGreaterThanOrEqual(from);
        from = at + 1;
      }
      expect(result.headers.map((header) => header.text)).toEqual(expect.arrayContaining(sample.headers));
      expect(result.headers.every((header) => header.kept)).toBe(true);
    }
    // The seeds cover every kind of fact.
    for (const kind of TRANSCRIPT_FACT_KINDS) expect(found.get(kind), kind).toBeGreaterThan(0);
  });
});

describe('rarity and anomaly', () => {
  const repeated = (count: number, offset = 0) =>
    Array.from(
      { length: count },
      (_, i) =>
        `Nov 05 10:${String((i + offset) % 60).padStart(2, '0')}:00 yard-3 ledgerd[412]: flushed ${i + 7} entries`,
    );

  it('keeps the one line of a repeated log that differs, and not the repeated lines', () => {
    const anomaly = 'Nov 05 10:31:12 yard-3 kernel: Out of memory: Killed process 412 (ledgerd) total-vm:812344kB';
    const log = [...repeated(30), anomaly, ...repeated(30, 30)].join('\n');
    const input = embed([log]);
    const result = compress(input, { targetTokens: Math.floor(countTokens(input) / 4) });
    expect(result.output).toContain(anomaly);
    // Only the anomaly is critical: the 60 repeated lines are not.
    expect(result.criticalSpans).toBe(1);
  });

  it('keeps a sentence naming an e-mail address, and not a word with an "@" in it', () => {
    const fact = 'Escalate to oncall-yard@nordline.example before the morning shift.';
    const input = embed([fact, 'Ping @channel when the build is green.', noiseProse(20, 5)]);
    const result = compress(input, { targetTokens: 60 });
    expect(result.output).toContain(fact);
    expect(result.criticalSpans).toBe(1);
  });

  it('keeps a sentence with a rare figure and drops filler', () => {
    const fact = 'The freight contract renews on 2027-03-15 unless cancelled first.';
    const input = embed([fact, noiseProse(20, 4)]);
    const result = compress(input, { targetTokens: 60 });
    expect(result.output).toContain(fact);
    expect(result.overflow).toBe(false);
  });

  it('keeps whole stack traces of Ruby, PHP and Elixir, a unified diff and a multi-line SQL statement', () => {
    const spans = [
      "app/jobs/close.rb:42:in 'post': undefined method 'amount' for nil (NoMethodError)\n\tfrom app/jobs/run.rb:7:in 'perform'",
      'PHP Fatal error:  Uncaught PDOException: refused in /var/www/Repo.php:88\nStack trace:\n#0 /var/www/Repo.php(88): PDO->__construct()\n#1 {main}',
      '** (ArithmeticError) bad argument in arithmetic expression\n    (depot 0.4.1) lib/depot/tariff.ex:31: Depot.Tariff.apply/2',
      '--- a/deploy/router.yaml\n+++ b/deploy/router.yaml\n@@ -12,2 +12,2 @@\n-  replicas: 3\n+  replicas: 5',
      "DELETE FROM parcels_archive\nWHERE created_at < now() - interval '30 days'\n  AND place = 'yard';",
    ];
    const input = embed(spans);
    const result = compress(input, { targetTokens: Math.floor(countTokens(input) / 3) });
    expect(result.overflow).toBe(false);
    for (const span of spans) expect(normalise(result.output)).toContain(normalise(span));
  });

  it('keeps a statement whole when one of its lines repeats a line of an earlier statement', () => {
    const first = "DELETE FROM parcels_archive\nWHERE created_at < now() - interval '30 days'\n  AND place = 'yard-2';";
    const second = "DELETE FROM ledger_archive\nWHERE created_at < now() - interval '60 days'\n  AND place = 'yard-2';";
    const input = embed([first, second]);
    const result = compress(input, { targetTokens: Math.floor(countTokens(input) / 3) });
    for (const span of [first, second]) expect(normalise(result.output)).toContain(normalise(span));
  });

  it('keeps what a query names verbatim', () => {
    const fact = 'Ticket INC-4411 was reopened by the night shift.';
    const input = embed([fact, noiseProse(12, 9)]);
    const without = compress(input, { targetTokens: 40 });
    const withQuery = compress(input, { targetTokens: 40, query: 'what happened to INC-4411?' });
    expect(withQuery.output).toContain(fact);
    expect(withQuery.criticalSpans).toBe(without.criticalSpans + (without.output.includes(fact) ? 0 : 1));
  });
});

describe('message headers', () => {
  it('finds headers of a style it has no pattern for, keeps them in order and reports them', () => {
    const headers = Array.from({ length: 8 }, (_, i) => `~~ bot#${i + 1} @ 10:0${i}:00 ~~`);
    const input = headers.map((header, i) => `${header}\n${noiseProse(8, i + 1)}`).join('\n\n');
    const result = compress(input, { targetTokens: Math.floor(countTokens(input) / 4) });
    expect(result.overflow).toBe(false);
    expect(result.headers).toEqual(headers.map((text) => ({ text, kept: true })));
    let from = 0;
    for (const header of headers) {
      const at = result.output.indexOf(header, from);
      expect(at).toBeGreaterThanOrEqual(from);
      from = at + header.length;
    }
  });

  it('keeps a header repeated verbatim at each boundary', () => {
    const input = Array.from({ length: 6 }, (_, i) => `User:\n${noiseProse(10, i + 1)}`).join('\n\n');
    const result = compress(input, { targetTokens: Math.floor(countTokens(input) / 4) });
    expect(result.headers).toHaveLength(6);
    expect(result.headers.every((header) => header.kept)).toBe(true);
    expect(result.output.match(/^User:/gm)).toHaveLength(6);
  });
});

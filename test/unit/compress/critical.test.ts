import { describe, expect, it } from 'vitest';
import { compress, countTokens } from '../../../src/compress/index.js';
import { embed, normalise } from './fixtures.js';

const SPANS: Record<string, string> = {
  'python traceback': [
    'Traceback (most recent call last):',
    '  File "/srv/app/main.py", line 12, in <module>',
    '    load_config(path)',
    '  File "/srv/app/loader.py", line 40, in load_config',
    "    raise ValueError('bad value')",
    "ValueError: bad value 'x17'",
  ].join('\n'),
  'js error with frames': [
    "TypeError: Cannot read properties of undefined (reading 'id')",
    '    at resolveUser (/app/src/users.js:42:17)',
    '    at async handler (/app/src/routes.js:7:5)',
  ].join('\n'),
  'go panic': [
    'panic: runtime error: index out of range [5] with length 3',
    '',
    'goroutine 1 [running]:',
    'main.lookup(...)',
    '\t/home/dev/app/main.go:14 +0x1d',
    'main.main()',
    '\t/home/dev/app/main.go:9 +0x45',
    'exit status 2',
  ].join('\n'),
  'rust compiler error': [
    'error[E0382]: borrow of moved value: `items`',
    ' --> src/main.rs:4:20',
    '  |',
    '3 |     let moved = items;',
    '  |                 ----- value moved here',
  ].join('\n'),
  'rust panic': "thread 'main' panicked at src/lib.rs:12:5:\nattempt to subtract with overflow",
  'error log line': '2025-03-02T10:11:12Z ERROR [payments] charge declined by upstream',
  'fenced code': '```ts\nexport function add(a: number, b: number): number {\n  return a + b;\n}\n```',
  'indented code': '    for item in items:\n        print(item)',
  uuid: 'The failing job is 0f8e7d6c-5b4a-4392-8d1c-0a1b2c3d4e5f in the queue.',
  'git sha': 'The regression came in with commit 3a9f1c2b7e on main.',
  'absolute path': 'Settings are read from /etc/omni/gateway.conf at start.',
  'relative path': 'The handler lives in src/compress/index.ts for now.',
  url: 'The runbook is at https://wiki.example.com/runbooks/cache-42 for on-call.',
  'memory quantity': 'Each worker gets 512 MiB of memory.',
  'time quantity': 'Requests time out after 30 s of silence.',
  percentage: 'Availability last month was 99.9 % overall.',
  money: 'The storage bill came to $12.50 this week.',
  'DECISION marker': 'DECISION: the cache moves to the regional tier.',
  'MUST marker': 'Every release MUST be signed by two owners.',
  'REQUIRED marker': 'A changelog entry is REQUIRED for each merge.',
  'TODO marker': 'TODO: drop the legacy fallback after the migration.',
  'FIXME marker': 'FIXME: the retry loop ignores the deadline.',
  'NOTE marker': 'NOTE: exports run on the secondary replica only.',
};

describe('critical spans', () => {
  for (const [kind, span] of Object.entries(SPANS)) {
    it(`keeps a ${kind} verbatim under a tight budget`, () => {
      const input = embed([span], 40);
      const targetTokens = countTokens(span) + 30;
      const result = compress(input, { targetTokens });
      expect(result.overflow).toBe(false);
      expect(result.tokensOut).toBeLessThanOrEqual(targetTokens);
      expect(normalise(result.output)).toContain(normalise(span));
      expect(result.criticalKept).toBe(result.criticalSpans);
      expect(result.criticalSpans).toBeGreaterThanOrEqual(1);
    });
  }

  it('keeps every kind at once, in the original order', () => {
    const spans = Object.values(SPANS);
    const result = compress(embed(spans, 6), { targetTokens: countTokens(spans.join('\n')) + 200 });
    const output = normalise(result.output);
    let cursor = 0;
    for (const span of spans) {
      const at = output.indexOf(normalise(span), cursor);
      expect(at, span).toBeGreaterThanOrEqual(cursor);
      cursor = at + normalise(span).length;
    }
  });

  it('drops filler that holds no critical content', () => {
    const span = SPANS.uuid!;
    const result = compress(embed([span], 40), { targetTokens: countTokens(span) + 5 });
    expect(result.criticalSpans).toBe(1);
    expect(result.overflow).toBe(false);
    expect(normalise(result.output)).toBe(normalise(span));
    expect(result.reduction).toBeGreaterThan(0.9);
  });

  it('counts a verbatim repeat of a critical span once and keeps it once', () => {
    const line = '2025-03-02T10:11:12Z ERROR [db] connection refused';
    const input = [line, line, line, 'Some ordinary words follow here.', line].join('\n');
    const result = compress(input, { targetTokens: countTokens(line) + 2 });
    expect(result.criticalSpans).toBe(1);
    expect(result.criticalKept).toBe(1);
    expect(result.output.split(line).length - 1).toBe(1);
  });
});

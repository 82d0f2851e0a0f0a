import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'om-compress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1', OMNIMIND_HOME: join(dir, 'home') };

const filler = Array.from({ length: 400 }, (_, i) => `Request ${i} was handled normally and nothing happened.`).join(
  '\n',
);
const facts = ['ERROR: connection to db-7f3a9c refused after 30 s', 'TODO: rotate the key at /etc/omnimind/key.pem'];

describe('omnimind compress', () => {
  it('compresses a file to the budget, keeps the critical lines, and reports on stderr', async () => {
    const file = join(dir, 'context.txt');
    writeFileSync(file, `${filler}\n${facts[0]}\n${filler}\n${facts[1]}\n`);
    const result = await runCli(['compress', file, '--target-tokens', '300'], env, dir);
    expect(result.code).toBe(0);
    for (const fact of facts) expect(result.stdout).toContain(fact);
    expect(result.stdout.length).toBeLessThan(filler.length / 4);
    expect(result.stderr).toMatch(/tokens \d+ → \d+ \(\d+\.\d% fewer\); critical spans kept 2\/2/);
  });

  it('reads stdin, prints JSON with --json, and exits 1 when the critical content alone overflows', async () => {
    const criticalOnly = Array.from(
      { length: 40 },
      (_, i) => `ERROR: worker ${i} crashed at /srv/app/worker-${i}.js:${i + 10}`,
    ).join('\n');
    const result = await runCli(['compress', '-', '--target-tokens', '20', '--json'], env, dir, {
      input: criticalOnly,
    });
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as {
      overflow: boolean;
      output: string;
      criticalKept: number;
      criticalSpans: number;
    };
    expect(json.overflow).toBe(true);
    expect(json.criticalKept).toBe(json.criticalSpans);
    expect(json.output).toContain('worker-39.js:49');
  });

  it('is a usage error without --target-tokens', async () => {
    expect((await runCli(['compress', '-'], env, dir)).code).toBe(2);
  });
});

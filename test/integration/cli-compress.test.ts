import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'om-compress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1', OMNIMIND_HOME: join(dir, 'home') };

const filler = Array.from({ length: 400 }, (_, i) => `Request ${i} was handled normally and nothing happened.`).join(
  '\n',
);
const facts = ['ERROR: connection to db-7f3a9c refused after 30 s', 'TODO: rotate the key at /etc/omnimind/key.pem'];

/** Bytes the pipe test sends: large enough that the reader finds the pipe empty many times. */
const PIPE_BYTES = 1024 * 1024;

/**
 * A writer process that prints PIPE_BYTES of log lines in 64 KiB chunks with pauses, ending with one fact;
 * its stdout is the pipe omnimind reads.
 */
const WRITER = `
const line = (i) => 'INFO [worker-' + (i % 4) + '] heartbeat ok, queue depth ' + (i % 9) + '\\n';
let text = '';
for (let i = 0; text.length < ${PIPE_BYTES} - 200; i++) text += line(i);
text = text.slice(0, ${PIPE_BYTES} - 100) + '\\n${facts[0]}\\n';
const chunks = [];
for (let at = 0; at < text.length; at += 65536) chunks.push(text.slice(at, at + 65536));
const next = () => {
  const chunk = chunks.shift();
  if (chunk === undefined) return;
  process.stdout.write(chunk, () => setTimeout(next, 5));
};
next();
`;

/** Run `writer | omnimind ARGS` through a shell, so omnimind's stdin is a real pipe. */
function runPipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const writer = join(dir, 'writer.cjs');
  writeFileSync(writer, WRITER);
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const command = `${quote(process.execPath)} ${quote(writer)} | ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  return new Promise((resolve) => {
    const shell = spawn('/bin/sh', ['-c', command], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    shell.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => shell.kill('SIGKILL'), 60_000);
    shell.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

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

  it('says in --json which message headers were kept', async () => {
    const headers = ['### user · 2026-11-05T03:12Z', '### tool:sql · call 3f9a1c · 2026-11-05T03:13Z'];
    const file = join(dir, 'transcript.txt');
    writeFileSync(file, headers.map((header) => `${header}\n${filler}`).join('\n\n'));
    const result = await runCli(['compress', file, '--target-tokens', '300', '--json'], env, dir);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { output: string; headers: Array<{ text: string; kept: boolean }> };
    expect(json.headers).toEqual(headers.map((text) => ({ text, kept: true })));
    expect(json.output.indexOf(headers[0]!)).toBeLessThan(json.output.indexOf(headers[1]!));
  });

  it('reads 1 MB from a pipe on stdin', async () => {
    const result = await runPipeline(['compress', '-', '--target-tokens', '5000', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { output: string; tokensIn: number; tokensOut: number };
    expect(json.output).toContain(facts[0]);
    expect(json.tokensOut).toBeLessThanOrEqual(5000);
    // The whole megabyte arrived: ~40 000 lines of about 14 tokens each.
    expect(json.tokensIn).toBeGreaterThan(200_000);
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

  it('writes all of a large output to a slow reader before it exits', async () => {
    // 2.6 MB: above the size from which the optimising compiler is kept, and far more than a pipe holds.
    const file = join(dir, 'large.txt');
    const large = Array.from({ length: 40_000 }, (_, i) => `line ${i}: ${filler.slice(0, 50)}`).join('\n');
    writeFileSync(file, large);
    const child = spawn(process.execPath, [CLI, 'compress', file, '--target-tokens', '100000000'], {
      env,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const chunks: Buffer[] = [];
    // Read a chunk, then nothing for a while: the pipe stays full while the output is being written.
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(`${large}\n`);
  }, 120_000);

  it('names the file it cannot read', async () => {
    const result = await runCli(['compress', join(dir, 'missing.txt'), '--target-tokens', '10'], env, dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Cannot read');
    expect(result.stderr).toContain('missing.txt');
  });

  it('is a usage error without --target-tokens', async () => {
    expect((await runCli(['compress', '-'], env, dir)).code).toBe(2);
  });
});

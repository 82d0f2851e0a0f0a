import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './types.js';

/** Every benchmark, in the order BENCHMARKS.md lists them; `npm run bench -- name…` runs a subset. */
const SECTIONS: Record<string, () => Promise<{ run(): Promise<BenchSection> }>> = {
  supervisor: () => import('./supervisor.js'),
  gateway: () => import('./gateway.js'),
  cache: () => import('./cache.js'),
  limiter: () => import('./limiter.js'),
  compress: () => import('./compress.js'),
  memory: () => import('./memory.js'),
  load: () => import('./load.js'),
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
const sections: BenchSection[] = [];
for (const name of names) {
  const load = SECTIONS[name];
  if (!load) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
  process.stderr.write(`bench: ${name}…\n`);
  const started = Date.now();
  sections.push(await (await load()).run());
  process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const header = [
  '# Benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.`,
  `Command: \`npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}\`. Each section compares its figures side by side in one run.`,
  '',
].join('\n');
const body = sections.map((s) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown.trim()}\n`).join('\n');
const out = `${header}\n${body}`;
if (wanted.length === 0) writeFileSync(join(import.meta.dirname, '..', 'BENCHMARKS.md'), out);
process.stdout.write(out);

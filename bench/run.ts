import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
  peer: () => import('./peer.js'),
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
const render = (s: BenchSection) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown.trim()}\n`;
const file = join(import.meta.dirname, '..', 'BENCHMARKS.md');
if (wanted.length === 0) {
  writeFileSync(file, `${header}\n${sections.map(render).join('\n')}`);
} else if (existsSync(file)) {
  // A partial run replaces its own sections (matched by title) and keeps the others with their own dates.
  let text = readFileSync(file, 'utf8');
  for (const section of sections) {
    const start = text.indexOf(`## ${section.title}\n`);
    if (start === -1) {
      text += `\n${render(section)}`;
      continue;
    }
    const next = text.indexOf('\n## ', start + 1);
    const stamp = `(re-measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- ${wanted.join(' ')}\`)`;
    const fresh = render(section).replace('\n\nReproduce:', `\n\n${stamp}\n\nReproduce:`);
    text = text.slice(0, start) + fresh + (next === -1 ? '' : text.slice(next));
  }
  writeFileSync(file, text);
}
process.stdout.write(sections.map(render).join('\n'));

import { recordSections, renderSections } from './record.js';
import type { BenchSection } from './types.js';

/** Every benchmark, in the order BENCHMARKS.md lists them; `npm run bench -- name…` runs a subset. */
const SECTIONS: Record<string, () => Promise<{ run(): Promise<BenchSection> }>> = {
  supervisor: () => import('./supervisor.js'),
  gateway: () => import('./gateway.js'),
  profile: () => import('./profile.js'),
  isolation: () => import('./isolation.js'),
  cache: () => import('./cache.js'),
  limiter: () => import('./limiter.js'),
  compress: () => import('./compress.js'),
  memory: () => import('./memory.js'),
  load: () => import('./load.js'),
  peer: () => import('./peer.js'),
  service: () => import('./service.js'),
  http: () => import('./http.js'),
  fleet: () => import('./fleet.js'),
};

/** Sections that need something set up first (a baseline checkout): run only when named. */
const NAMED_ONLY = new Set(['isolation']);

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS).filter((name) => !NAMED_ONLY.has(name));
const sections: BenchSection[] = [];
for (const name of names) {
  const load = SECTIONS[name];
  if (!load) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
  process.stderr.write(`bench: ${name}…\n`);
  const started = Date.now();
  sections.push(await (await load()).run());
  process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

recordSections(sections, `npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}`, wanted.length > 0);
process.stdout.write(renderSections(sections));

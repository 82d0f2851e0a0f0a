import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './types.js';

const FILE = join(import.meta.dirname, '..', 'BENCHMARKS.md');
const today = () => new Date().toISOString().slice(0, 10);
const render = (s: BenchSection) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown.trim()}\n`;

/** The `## ` sections of the current file that `sections` does not replace (e.g. the soak's, kept by a bench run). */
function otherSections(sections: BenchSection[]): string[] {
  if (!existsSync(FILE)) return [];
  const titles = new Set(sections.map((s) => s.title));
  return readFileSync(FILE, 'utf8')
    .split(/\n(?=## )/)
    .slice(1)
    .filter((text) => !titles.has(text.slice(3, text.indexOf('\n'))))
    .map((text) => `${text.trimEnd()}\n`);
}

/**
 * Writes sections to BENCHMARKS.md: a complete run (`partial` false) rewrites the file with a header naming the
 * machine, keeping the sections it did not measure; a partial run replaces only its own sections (matched by title),
 * stamped with its date and command.
 */
export function recordSections(sections: BenchSection[], command: string, partial: boolean): void {
  if (!partial || !existsSync(FILE)) {
    const kept = otherSections(sections);
    const header = [
      '# Benchmarks',
      '',
      `Measured ${today()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
        `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.`,
      `Command: \`${command}\`. Each section compares its figures side by side in one run.`,
      '',
    ].join('\n');
    writeFileSync(FILE, `${header}\n${[...sections.map(render), ...kept].join('\n')}`);
    return;
  }
  let text = readFileSync(FILE, 'utf8');
  for (const section of sections) {
    const start = text.indexOf(`## ${section.title}\n`);
    if (start === -1) {
      text += `\n${render(section)}`;
      continue;
    }
    const next = text.indexOf('\n## ', start + 1);
    const stamp = `(re-measured ${today()} with \`${command}\`)`;
    const fresh = render(section).replace('\n\nReproduce:', `\n\n${stamp}\n\nReproduce:`);
    text = text.slice(0, start) + fresh + (next === -1 ? '' : text.slice(next));
  }
  writeFileSync(FILE, text);
}

/** Renders sections for the terminal. */
export function renderSections(sections: BenchSection[]): string {
  return sections.map(render).join('\n');
}

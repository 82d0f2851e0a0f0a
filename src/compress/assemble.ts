import type { Unit } from './types.js';

/**
 * Join the selected units in document order. Neighbours in the input keep the exact text between them;
 * across a dropped stretch a newline stands in if the stretch held one, else a space.
 */
export function assembleOutput(text: string, units: readonly Unit[], selected: Uint8Array): string {
  const parts: string[] = [];
  let previous = -1;
  for (let i = 0; i < units.length; i++) {
    if (selected[i] !== 1) continue;
    const unit = units[i]!;
    if (previous >= 0) {
      const before = units[previous]!;
      if (previous === i - 1) parts.push(text.slice(before.end, unit.start));
      else {
        const newline = text.indexOf('\n', before.end);
        parts.push(newline >= 0 && newline < unit.start ? '\n' : ' ');
      }
    }
    parts.push(text.slice(unit.start, unit.end));
    previous = i;
  }
  return parts.join('');
}

/** Whether the unit opens a line, so joining it costs a newline token. */
export function startsLine(text: string, unit: Unit): boolean {
  for (let k = unit.start - 1; k >= 0; k--) {
    const code = text.charCodeAt(k);
    if (code === 10) return true;
    if (code !== 32 && code !== 9 && code !== 13) return false;
  }
  return true;
}

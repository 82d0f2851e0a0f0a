import type { RunResult } from './run-python.js';

/**
 * Most bytes a run's answer may take on the wire (3 MiB): the result travels twice (as text and as structured
 * content) inside one JSON-RPC frame, and the gateway's default frame limit is 4 MiB.
 */
export const MAX_ANSWER_BYTES = 3 * 1024 * 1024;

/** The size of the tool answer carrying `value` as pretty JSON text and as structured content. */
export function measureAnswer(value: object): number {
  const text = JSON.stringify(value, null, 2);
  return Buffer.byteLength(JSON.stringify({ content: [{ type: 'text', text }], structuredContent: value }));
}

/** Shortens the larger of stdout and stderr until the whole answer fits `maxBytes`, marking the result truncated. */
export function fitResult<T extends RunResult>(result: T, maxBytes: number = MAX_ANSWER_BYTES): T {
  let fitted = result;
  while (measureAnswer(fitted) > maxBytes && (fitted.stdout.length > 0 || fitted.stderr.length > 0)) {
    const key = fitted.stdout.length >= fitted.stderr.length ? 'stdout' : 'stderr';
    const text = fitted[key];
    let cut = Math.floor(text.length / 2);
    if (isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
    fitted = { ...fitted, [key]: text.slice(0, cut), truncated: true };
  }
  return fitted;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

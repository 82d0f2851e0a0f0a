import { readFileSync } from 'node:fs';
import { type ChatMessage, compress } from '../../compress/index.js';
import { OmnimindError } from '../../protocol/index.js';
import type { GlobalOptions } from '../context.js';

/** Options of `omnimind compress`. */
export interface CompressCommandOptions extends GlobalOptions {
  targetTokens: number;
  query?: string;
  json?: boolean;
}

/** A JSON array of `{role, content}` objects is compressed as chat messages (their metadata is kept). */
function asMessages(text: string): ChatMessage[] | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (
      Array.isArray(value) &&
      value.length > 0 &&
      value.every(
        (m) => m !== null && typeof m === 'object' && typeof m.role === 'string' && typeof m.content === 'string',
      )
    ) {
      return value as ChatMessage[];
    }
  } catch {
    // not JSON: plain text
  }
  return undefined;
}

/** `omnimind compress [FILE|-] --target-tokens N [--json]`: exit 1 when the critical content alone exceeds the budget. */
export async function compressCommand(file: string | undefined, options: CompressCommandOptions): Promise<number> {
  let text: string;
  try {
    text = file === undefined || file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new OmnimindError('INPUT_UNREADABLE', `Cannot read ${file ?? 'stdin'}: ${(error as Error).message}.`);
  }
  const input = asMessages(text) ?? text;
  const result = compress(input, {
    targetTokens: options.targetTokens,
    ...(options.query ? { query: options.query } : {}),
  });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    process.stdout.write(result.output.endsWith('\n') ? result.output : `${result.output}\n`);
    process.stderr.write(
      `tokens ${result.tokensIn} → ${result.tokensOut} (${(result.reduction * 100).toFixed(1)}% fewer); ` +
        `critical spans kept ${result.criticalKept}/${result.criticalSpans}` +
        `${result.overflow ? `; the critical content alone exceeds ${options.targetTokens} tokens, so all of it was kept` : ''}\n`,
    );
  }
  return result.overflow ? 1 : 0;
}

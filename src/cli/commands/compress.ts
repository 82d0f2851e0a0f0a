import { closeSync, createReadStream, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import type { ChatMessage } from '../../compress/index.js';
import type { GlobalOptions } from '../context.js';

/** Options of `omnimind compress`. */
export interface CompressCommandOptions extends GlobalOptions {
  targetTokens: number;
  query?: string;
  json?: boolean;
}

/** Largest input read (a file or stdin): far above any context window, and a bound on memory. */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/**
 * Inputs shorter than this (about 600k tokens) run without V8's optimising compiler (TurboFan): one call is over
 * before most of its compiled code would pay off, and its compiler threads compete with the call for the CPU. In
 * whole processes that took 25–40 % of the CPU time off 10k–300k tokens; at 1M tokens it cost about 10 %, so
 * longer inputs keep it.
 */
const NO_TURBOFAN_BELOW_CHARS = 2_000_000;

/**
 * Read a whole file, or stdin for `-`: a regular file in one read, anything else (a pipe, a socket, a device) as a
 * stream, since a pipe or socket on stdin is non-blocking and a synchronous read of it fails with EAGAIN as soon as
 * the writer is slower than the reader.
 */
async function readInput(file: string | undefined): Promise<string> {
  const fromStdin = file === undefined || file === '-';
  try {
    if (fromStdin) return await readStream(process.stdin);
    const fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    // The stream takes the descriptor over (a FIFO's writer must not see it closed and opened again).
    if (!stat.isFile()) return await readStream(createReadStream(file, { fd }));
    try {
      if (stat.size > MAX_INPUT_BYTES) throw tooLarge();
      // One read: a stream's chunks, events and module cost a new process more than the file itself.
      return readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const { OmnimindError } = await import('../../protocol/index.js');
    throw new OmnimindError(
      'INPUT_UNREADABLE',
      `Cannot read ${fromStdin ? 'stdin' : file}: ${(error as Error).message}.`,
    );
  }
}

/** Everything a stream yields, as text, up to MAX_INPUT_BYTES. */
async function readStream(source: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_INPUT_BYTES) {
      source.destroy();
      throw tooLarge();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function tooLarge(): Error {
  return new Error(`the input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
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
  // The compressor's modules load while the input is still arriving.
  const loading = import('../../compress/index.js');
  const text = await readInput(file);
  // `--max-opt=2`: the interpreter, the baseline compiler and (where V8 ships it) Maglev, but not TurboFan.
  if (text.length < NO_TURBOFAN_BELOW_CHARS) setFlagsFromString('--max-opt=2');
  const { compress } = await loading;
  const input = asMessages(text) ?? text;
  const result = compress(input, {
    targetTokens: options.targetTokens,
    ...(options.query ? { query: options.query } : {}),
  });
  const written: Promise<void>[] = [];
  if (options.json) {
    written.push(write(process.stdout, `${JSON.stringify(result, null, 2)}\n`));
  } else {
    written.push(write(process.stdout, result.output.endsWith('\n') ? result.output : `${result.output}\n`));
    written.push(
      write(
        process.stderr,
        `tokens ${result.tokensIn} → ${result.tokensOut} (${(result.reduction * 100).toFixed(1)}% fewer); ` +
          `critical spans kept ${result.criticalKept}/${result.criticalSpans}; ` +
          `message headers kept ${result.headers.filter((header) => header.kept).length}/${result.headers.length}` +
          `${result.overflow ? `; the critical content alone exceeds ${options.targetTokens} tokens, so all of it was kept` : ''}\n`,
      ),
    );
  }
  await Promise.all(written);
  // All is written and nothing else runs: exiting here spares the process the orderly teardown of the heap a large
  // context leaves behind (5–15 ms of a 100k-token run, measured with strace from the last write to exit_group).
  process.exit(result.overflow ? 1 : 0);
}

/**
 * Write `text` and resolve once the stream has handed it to the system (a pipe may take it asynchronously); a
 * failed write is the stream's 'error' event, which main.ts handles (a reader that went away ends the program).
 */
function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}

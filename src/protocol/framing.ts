import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Default largest frame a peer may send, in bytes (4 MiB: large tool results fit, a runaway stream does not). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** Callbacks of a LineSplitter. */
export interface LineSplitterHandlers {
  /** A complete frame without its newline. Empty lines are skipped. */
  onFrame(frame: string): void;
  /** A frame exceeded the limit; its bytes up to the next newline are discarded. `head` is its first bytes. */
  onOversize(limitBytes: number, head: string): void;
}

const NEWLINE = 0x0a;

/** Bytes of an oversized frame kept to read its id from (a request's id comes early in any real client's frame). */
const OVERSIZE_HEAD_BYTES = 4096;

/** Splits a byte stream into newline-delimited frames, never buffering more than `maxFrameBytes`. */
export class LineSplitter {
  readonly #maxFrameBytes: number;
  readonly #handlers: LineSplitterHandlers;
  #chunks: Buffer[] = [];
  #pendingBytes = 0;
  #discarding = false;

  constructor(handlers: LineSplitterHandlers, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new TypeError(`Expected \`maxFrameBytes\` to be an integer >= 1, got \`${maxFrameBytes}\``);
    }
    this.#maxFrameBytes = maxFrameBytes;
    this.#handlers = handlers;
  }

  /** Feeds a chunk; calls the handlers synchronously for every frame it completes. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      if (this.#discarding) {
        if (newline === -1) return;
        this.#discarding = false;
        start = newline + 1;
        continue;
      }
      const pieceLength = end - start;
      if (this.#pendingBytes + pieceLength > this.#maxFrameBytes) {
        const first = this.#chunks[0] ?? chunk.subarray(start, end);
        const head = first.toString('utf8', 0, Math.min(first.length, OVERSIZE_HEAD_BYTES));
        this.#chunks = [];
        this.#pendingBytes = 0;
        this.#discarding = newline === -1;
        this.#handlers.onOversize(this.#maxFrameBytes, head);
        if (newline === -1) return;
        start = newline + 1;
        continue;
      }
      if (newline === -1) {
        this.#chunks.push(chunk.subarray(start));
        this.#pendingBytes += pieceLength;
        return;
      }
      let frame: string;
      if (this.#chunks.length === 0) {
        frame = chunk.toString('utf8', start, end);
      } else {
        this.#chunks.push(chunk.subarray(start, end));
        frame = Buffer.concat(this.#chunks).toString('utf8');
        this.#chunks = [];
        this.#pendingBytes = 0;
      }
      start = newline + 1;
      const trimmed = frame.endsWith('\r') ? frame.slice(0, -1) : frame;
      if (trimmed.trim() !== '') this.#handlers.onFrame(trimmed);
    }
  }

  /** Bytes of an unfinished frame held in memory. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }
}

/** Where `writeCoalesced` keeps a stream's frames of this turn (one string, written as one). */
const HELD = Symbol('omnimind.heldFrames');

/** A stream with the frames `writeCoalesced` holds for it. */
type Holding = Writable & { [HELD]?: string | undefined };

/**
 * Writes to a stream so that everything written to it in one turn of the event loop leaves in one write (one system
 * call, one buffer): the frames are joined and handed to the stream in the next check phase. A burst of frames to one
 * peer then costs one wake-up, and the stream keeps no record per frame. Returns false once the stream has asked its
 * writers to wait for 'drain' (which it will then emit). Whoever ends the stream calls `flushCoalesced` first.
 */
export function writeCoalesced(stream: Writable, data: string): boolean {
  const holding = stream as Holding;
  const held = holding[HELD];
  if (held === undefined) {
    holding[HELD] = data;
    setImmediate(flushCoalesced, stream);
  } else {
    holding[HELD] = held + data;
  }
  return !stream.writableNeedDrain;
}

/** Hands the stream what `writeCoalesced` holds for it now (before ending it, or before the process exits). */
export function flushCoalesced(stream: Writable): void {
  const holding = stream as Holding;
  const held = holding[HELD];
  if (held === undefined) return;
  holding[HELD] = undefined;
  if (stream.writable) stream.write(held);
}

/** Serialises a message as one newline-terminated frame. */
export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

/** Splits a text stream (e.g. a child's stderr) into lines for logging; keeps at most `maxLineChars` characters of a line. */
export function createLineReader(onLine: (line: string) => void, maxLineChars = 64 * 1024): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return (chunk: Buffer) => {
    pending += decoder.write(chunk);
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > maxLineChars) {
      onLine(pending.slice(0, maxLineChars));
      pending = '';
    }
  };
}

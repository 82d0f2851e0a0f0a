import { StringDecoder } from 'node:string_decoder';

/** Collects a stream up to `limitBytes`; the rest is read and dropped so the writer never blocks. */
export class CappedOutput {
  readonly #limitBytes: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) {
      throw new TypeError(`Expected \`limitBytes\` to be an integer >= 0, got \`${limitBytes}\``);
    }
    this.#limitBytes = limitBytes;
  }

  /** Takes one chunk, keeping what fits under the limit. */
  push(chunk: Buffer): void {
    const room = this.#limitBytes - this.#kept;
    if (room >= chunk.length) {
      this.#chunks.push(chunk);
      this.#kept += chunk.length;
      return;
    }
    if (room > 0) {
      this.#chunks.push(chunk.subarray(0, room));
      this.#kept += room;
    }
    this.#dropped += chunk.length - Math.max(room, 0);
  }

  /** Whether anything was dropped. */
  get truncated(): boolean {
    return this.#dropped > 0;
  }

  /** The kept bytes as UTF-8 text; a character cut in half at the limit is left out. */
  text(): string {
    return new StringDecoder('utf8').write(Buffer.concat(this.#chunks));
  }
}

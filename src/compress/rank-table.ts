/**
 * The o200k byte-pair ranks as one flat binary table: loading it is a single read, where building the
 * tokenizer's maps from its JavaScript source costs hundreds of milliseconds in every new process.
 *
 * Layout (little-endian 32-bit words, then bytes): count, slots, ranks[count], offsets[count + 1],
 * hash slots[slots] (entry + 1, 0 when empty; linear probing), then the token bytes back to back.
 */
export class RankTable {
  private readonly ranks: Int32Array;
  private readonly offsets: Int32Array;
  private readonly slots: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly mask: number;

  constructor(buffer: Uint8Array) {
    if (buffer.byteOffset % 4 !== 0) buffer = buffer.slice();
    const head = new Int32Array(buffer.buffer, buffer.byteOffset, 2);
    const count = head[0]!;
    const slots = head[1]!;
    let at = buffer.byteOffset + 8;
    this.ranks = new Int32Array(buffer.buffer, at, count);
    at += count * 4;
    this.offsets = new Int32Array(buffer.buffer, at, count + 1);
    at += (count + 1) * 4;
    this.slots = new Int32Array(buffer.buffer, at, slots);
    at += slots * 4;
    this.bytes = new Uint8Array(buffer.buffer, at, this.offsets[count]!);
    this.mask = slots - 1;
  }

  /** The rank of the token spelled by `key[start, end)`, or -1 if there is none. */
  rankOf(key: Uint8Array, start: number, end: number): number {
    const length = end - start;
    for (let slot = hashBytes(key, start, end) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      const from = this.offsets[entry]!;
      if (this.offsets[entry + 1]! - from !== length) continue;
      let k = 0;
      while (k < length && this.bytes[from + k] === key[start + k]) k++;
      if (k === length) return this.ranks[entry]!;
    }
  }
}

/** FNV-1a over bytes. */
function hashBytes(key: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let k = start; k < end; k++) hash = Math.imul(hash ^ key[k]!, 0x01000193);
  return hash >>> 0;
}

/** Encode a rank list (index = rank; a string token or its bytes; holes allowed) as a RankTable buffer. */
export function encodeRankTable(ranks: ReadonlyArray<string | readonly number[] | undefined>): Uint8Array {
  const encoder = new TextEncoder();
  const tokens: Uint8Array[] = [];
  const tokenRanks: number[] = [];
  ranks.forEach((token, rank) => {
    if (token === undefined) return;
    tokens.push(typeof token === 'string' ? encoder.encode(token) : Uint8Array.from(token));
    tokenRanks.push(rank);
  });
  const count = tokens.length;
  let slots = 1;
  while (slots < count * 2) slots *= 2;
  const byteLength = tokens.reduce((sum, token) => sum + token.length, 0);
  const words = 2 + count + count + 1 + slots;
  const out = new Uint8Array(words * 4 + byteLength);
  const view = new Int32Array(out.buffer, 0, words);
  view[0] = count;
  view[1] = slots;
  const offsetsAt = 2 + count;
  const slotsAt = offsetsAt + count + 1;
  let offset = 0;
  for (let entry = 0; entry < count; entry++) {
    const token = tokens[entry]!;
    view[2 + entry] = tokenRanks[entry]!;
    view[offsetsAt + entry] = offset;
    out.set(token, words * 4 + offset);
    offset += token.length;
    let slot = hashBytes(token, 0, token.length) & (slots - 1);
    while (view[slotsAt + slot] !== 0) slot = (slot + 1) & (slots - 1);
    view[slotsAt + slot] = entry + 1;
  }
  view[offsetsAt + count] = offset;
  return out;
}

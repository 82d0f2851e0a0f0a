import type { Unit } from './types.js';

/**
 * A proposed unit whose rarest clause occurs at most this often is critical unless it is one of a run of alike
 * units (an anomaly in a repeated log, a figure in prose). Repeated log and table lines recur far more often.
 */
const RARE_CLAUSE = 24;
/** Units on each side that count as the neighbourhood of a unit. */
const NEIGHBOURS = 6;
/** Share of masked words two units must have in common (Jaccard) to count as alike. */
const ALIKE = 0.5;
/** Alike neighbours that make a unit one of a run (a repeated log line); a fact stated twice has one. */
const RUN_NEIGHBOURS = 2;

/** Share of a sentence's words that are plain words (no digits): a log line is mostly fields, a sentence is not. */
const SENTENCE_WORD_SHARE = 0.7;
const SENTENCE_SHAPE = /^[A-Z][^\n]*[.!?]$/;

/** Words that say something went wrong, in any log format or language of prose. */
const SEVERITY = new Set(
  (
    'error errors err fatal panic panicked exception failed failure fails refused denied timeout timedout timed ' +
    'killed crash crashed crashing abort aborted unhealthy evicted oom oomkilled backoff warning critical ' +
    'rejected unreachable corrupt corrupted deadlock violation mismatch exceeded overflow segfault ' +
    'unavailable unauthorized forbidden'
  ).split(' '),
);

// A word, or an identifier joined by "-", "." or "_" (`PAL-4607`, `10.0.3.7`, `router-827edb-2c1f`), masked whole.
const TOKEN = /[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*/g;
const HAS_DIGIT = /\d/;
const HEX_RUN = /^[0-9a-fA-F]{6,}$/;
/** A query word naming something specific: it holds a digit, or joins parts with "_", "-", "." or "/". */
const SPECIFIC_QUERY_WORD = /^(?=.*[A-Za-z0-9])(?:(?=.*\d)|(?=.*\w[_./-]\w))[\w./-]{3,}$/;

/** Flag bits of a word id: it names something specific (a number, an id, a severity word), it holds a digit. */
const SPECIFIC_BIT = 1;
const DIGIT_BIT = 2;
const FLAG_BITS = 2;

/** Word ids of one call: each spelling is masked (numbers and ids become "0") and flagged once. */
class Words {
  size = 0;
  private readonly ids = new Map<string, number>();
  private readonly spellings = new Map<string, number>();

  /** The masked word's index shifted left by FLAG_BITS, with the spelling's flags in the low bits. */
  idOf(word: string): number {
    let id = this.spellings.get(word);
    if (id === undefined) {
      const digit = HAS_DIGIT.test(word);
      const masked = digit || HEX_RUN.test(word);
      const lower = word.toLowerCase();
      const key = masked ? '0' : lower;
      let index = this.ids.get(key);
      if (index === undefined) {
        index = this.size++;
        this.ids.set(key, index);
      }
      id = (index << FLAG_BITS) | (masked || SEVERITY.has(lower) ? SPECIFIC_BIT : 0) | (digit ? DIGIT_BIT : 0);
      this.spellings.set(word, id);
    }
    return id;
  }
}

function isClauseBreak(code: number): boolean {
  // , ; { } [ ] |
  return code === 44 || code === 59 || code === 123 || code === 125 || code === 91 || code === 93 || code === 124;
}

/** Two 26-bit rolling hashes of a clause's masked words, as one number. */
const HASH_LOW = 0x3ffffff;

/**
 * Promote proposed units that are rare: a unit is proposed by a weak rule (a path, a quantity), or because it
 * holds a number, an identifier or a severity word. Each clause of a unit gets a template (its words with numbers
 * and ids masked); a proposed unit whose rarest specific clause occurs at most RARE_CLAUSE times becomes
 * critical if it is a sentence (a figure in prose, even stated twice) or if it is not one of a run of alike
 * neighbours. Repeated log lines, table rows and JSON fields are therefore not critical; the one line that
 * differs is.
 */
export function promoteRare(text: string, units: Unit[], proposed: Uint8Array): void {
  const n = units.length;
  const words = new Words();
  const counts = new Map<number, number>();
  // Per unit: the clause templates to weigh (its specific clauses, else all), and its distinct masked words.
  const keys: number[] = [];
  const keyOffsets = new Int32Array(n + 1);
  const wordSets: number[] = [];
  const setOffsets = new Int32Array(n + 1);
  const lastUnit: number[] = [];
  const sentence = new Uint8Array(n);
  const clauseKeys: number[] = [];
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    keyOffsets[i] = keys.length;
    setOffsets[i] = wordSets.length;
    const raw = text.slice(unit.start, unit.end);
    clauseKeys.length = 0;
    let specificKeys = 0;
    let high = 17;
    let low = 29;
    let clauseWords = 0;
    let specific = false;
    let wordCount = 0;
    let plainWords = 0;
    const flush = (): void => {
      if (clauseWords > 0) {
        const key = high * (HASH_LOW + 1) + low;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (specific) {
          keys.push(key);
          specificKeys++;
        } else clauseKeys.push(key);
      }
      high = 17;
      low = 29;
      clauseWords = 0;
      specific = false;
    };
    let last = 0;
    TOKEN.lastIndex = 0;
    for (let match = TOKEN.exec(raw); match !== null; match = TOKEN.exec(raw)) {
      for (let k = last; k < match.index; k++) {
        if (isClauseBreak(raw.charCodeAt(k))) {
          flush();
          break;
        }
      }
      last = match.index + match[0].length;
      const id = words.idOf(match[0]);
      const index = id >>> FLAG_BITS;
      high = (Math.imul(high, 31) + index + 1) & HASH_LOW;
      low = (Math.imul(low, 131) + index + 1) & HASH_LOW;
      clauseWords++;
      wordCount++;
      if ((id & SPECIFIC_BIT) !== 0) specific = true;
      if ((id & DIGIT_BIT) === 0) plainWords++;
      if (lastUnit[index] !== i) {
        lastUnit[index] = i;
        wordSets.push(index);
      }
    }
    flush();
    if (specificKeys > 0) proposed[i] = 1;
    else if (proposed[i] === 1) keys.push(...clauseKeys);
    if (SENTENCE_SHAPE.test(raw) && plainWords >= SENTENCE_WORD_SHARE * wordCount) sentence[i] = 1;
  }
  keyOffsets[n] = keys.length;
  setOffsets[n] = wordSets.length;

  const stamp = new Int32Array(words.size).fill(-1);
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    if (unit.critical !== null || proposed[i] !== 1) continue;
    let rarest = Number.POSITIVE_INFINITY;
    for (let k = keyOffsets[i]!; k < keyOffsets[i + 1]!; k++) rarest = Math.min(rarest, counts.get(keys[k]!) ?? 0);
    if (rarest <= RARE_CLAUSE && (sentence[i] === 1 || !inRun(i, wordSets, setOffsets, stamp))) {
      unit.critical = 'identifier';
    }
  }
}

/** Whether RUN_NEIGHBOURS units within NEIGHBOURS on either side share at least ALIKE of its masked words. */
function inRun(i: number, sets: readonly number[], offsets: Int32Array, stamp: Int32Array): boolean {
  const ownSize = offsets[i + 1]! - offsets[i]!;
  if (ownSize === 0) return false;
  for (let k = offsets[i]!; k < offsets[i + 1]!; k++) stamp[sets[k]!] = i;
  const last = offsets.length - 2;
  let alike = 0;
  for (let j = Math.max(0, i - NEIGHBOURS); j <= Math.min(last, i + NEIGHBOURS); j++) {
    if (j === i) continue;
    const otherSize = offsets[j + 1]! - offsets[j]!;
    let shared = 0;
    for (let k = offsets[j]!; k < offsets[j + 1]!; k++) if (stamp[sets[k]!] === i) shared++;
    if (shared / (ownSize + otherSize - shared) >= ALIKE && ++alike >= RUN_NEIGHBOURS) return true;
  }
  return false;
}

/**
 * Mark the units that mention a specific word of the query (an id, a version, a file name such as
 * `orders_v2` or `INC-4411`), matched verbatim: what the reader asks about is kept whole.
 */
export function markQueryMentions(text: string, units: Unit[], query: string | undefined): void {
  if (query === undefined) return;
  const wanted = new Set(query.split(/[\s,;:()"'`]+/).filter((word) => SPECIFIC_QUERY_WORD.test(word)));
  for (const word of wanted) {
    let u = 0;
    for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + word.length)) {
      while (u < units.length && units[u]!.end <= at) u++;
      for (let k = u; k < units.length && units[k]!.start < at + word.length; k++) {
        if (units[k]!.critical === null) units[k]!.critical = 'identifier';
      }
    }
  }
}

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
const CLAUSE_BREAK = /[,;{}[\]|]/;
const HAS_DIGIT = /\d/;
const HEX_RUN = /^[0-9a-fA-F]{6,}$/;
/** A query word naming something specific: it holds a digit, or joins parts with "_", "-", "." or "/". */
const SPECIFIC_QUERY_WORD = /^(?=.*[A-Za-z0-9])(?:(?=.*\d)|(?=.*\w[_./-]\w))[\w./-]{3,}$/;

/** Marked-up words of one unit: ids of its masked words, and whether it names something specific. */
class Words {
  readonly ids = new Map<string, number>();
  private readonly masked = new Map<string, number>();

  /** The id of a word once digits and hex runs are masked, and whether it is specific (a number, an id, a severity). */
  idOf(word: string): number {
    let id = this.masked.get(word);
    if (id === undefined) {
      const specific = HAS_DIGIT.test(word) || HEX_RUN.test(word);
      const lower = word.toLowerCase();
      const key = specific ? '0' : lower;
      id = this.ids.get(key);
      if (id === undefined) {
        id = this.ids.size * 2;
        this.ids.set(key, id);
      }
      // The low bit flags a specific word; the mask key itself is shared.
      id = specific || SEVERITY.has(lower) ? id | 1 : id;
      this.masked.set(word, id);
    }
    return id;
  }
}

/**
 * Promote proposed units that are rare: a unit is proposed by a weak rule (a path, a quantity), or because it
 * holds a number, an identifier or a severity word. Each clause of a unit gets a template (its words with numbers
 * and ids masked); a proposed unit whose rarest specific clause occurs at most RARE_CLAUSE times becomes
 * critical if it is a sentence (a figure in prose, even stated twice) or if it is not one of a run of alike
 * neighbours.
 * Repeated log lines, table rows and JSON fields are therefore not critical; the one line that differs is.
 */
export function promoteRare(text: string, units: Unit[], proposed: Uint8Array): void {
  const n = units.length;
  const words = new Words();
  const counts = new Map<string, number>();
  const clauseKeys: string[][] = [];
  const sets: number[][] = [];
  const sentence = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    const raw = text.slice(unit.start, unit.end);
    const ids: number[] = [];
    const keys: string[] = [];
    let plainWords = 0;
    let clauseIds: number[] = [];
    let specific = false;
    const flush = (): void => {
      if (clauseIds.length > 0) {
        const key = clauseIds.map((id) => id >> 1).join(' ');
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (specific) keys.push(key);
      }
      clauseIds = [];
      specific = false;
    };
    let last = 0;
    TOKEN.lastIndex = 0;
    for (let match = TOKEN.exec(raw); match !== null; match = TOKEN.exec(raw)) {
      if (CLAUSE_BREAK.test(raw.slice(last, match.index))) flush();
      last = match.index + match[0].length;
      const id = words.idOf(match[0]);
      clauseIds.push(id);
      ids.push(id >> 1);
      if ((id & 1) === 1) specific = true;
      if (!HAS_DIGIT.test(match[0])) plainWords++;
    }
    flush();
    if (keys.length > 0) proposed[i] = 1;
    else if (proposed[i] === 1) keys.push(...(clauseKeysOf(raw, words) ?? []));
    clauseKeys.push(keys);
    sets.push([...new Set(ids)]);
    if (SENTENCE_SHAPE.test(raw) && plainWords >= SENTENCE_WORD_SHARE * ids.length) sentence[i] = 1;
  }

  const stamp = new Int32Array(words.ids.size).fill(-1);
  for (let i = 0; i < n; i++) {
    const unit = units[i]!;
    if (unit.critical !== null || proposed[i] !== 1) continue;
    let rarest = Number.POSITIVE_INFINITY;
    for (const key of clauseKeys[i]!) rarest = Math.min(rarest, counts.get(key) ?? 0);
    if (rarest <= RARE_CLAUSE && (sentence[i] === 1 || !inRun(i, sets, stamp))) {
      unit.critical = 'identifier';
    }
  }
}

/** Every clause template of a unit proposed for something other than a word (a path without digits). */
function clauseKeysOf(raw: string, words: Words): string[] | undefined {
  const keys = raw
    .split(CLAUSE_BREAK)
    .map((clause) => (clause.match(TOKEN) ?? []).map((word) => words.idOf(word) >> 1).join(' '))
    .filter((key) => key !== '');
  return keys.length > 0 ? keys : undefined;
}

/** Whether RUN_NEIGHBOURS units within NEIGHBOURS on either side share at least ALIKE of its masked words. */
function inRun(i: number, sets: readonly number[][], stamp: Int32Array): boolean {
  const own = sets[i]!;
  if (own.length === 0) return false;
  for (const id of own) stamp[id] = i;
  let alike = 0;
  for (let j = Math.max(0, i - NEIGHBOURS); j <= Math.min(sets.length - 1, i + NEIGHBOURS); j++) {
    if (j === i) continue;
    const other = sets[j]!;
    let shared = 0;
    for (const id of other) if (stamp[id] === i) shared++;
    if (shared / (own.length + other.length - shared) >= ALIKE && ++alike >= RUN_NEIGHBOURS) return true;
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

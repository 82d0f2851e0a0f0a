import type { CriticalKind, Unit } from './types.js';

/** Units a number may carry to count as a quantity ("512 MiB", "30 s", "4 cores"). */
export const UNITS_SOURCE = [
  'ns',
  'µs',
  'us',
  'ms',
  's',
  'secs?',
  'seconds?',
  'm',
  'mins?',
  'minutes?',
  'h',
  'hrs?',
  'hours?',
  'days?',
  'weeks?',
  'months?',
  'years?',
  'B',
  'KB',
  'kB',
  'MB',
  'GB',
  'TB',
  'PB',
  'KiB',
  'MiB',
  'GiB',
  'TiB',
  'bytes?',
  'bits?',
  'Kbps',
  'Mbps',
  'Gbps',
  'Hz',
  'kHz',
  'MHz',
  'GHz',
  'rps',
  'qps',
  'RPS',
  'QPS',
  'req/s',
  'ops/s',
  'tokens?',
  'cores?',
  'vCPUs?',
  'CPUs?',
  '°C',
  '°F',
  'km',
  'cm',
  'mm',
  'kg',
  'g',
  'W',
  'kW',
  'V',
  'mA',
  'USD',
  'EUR',
  'GBP',
].join('|');

/** A number followed by a unit, a percentage, or an amount of money. */
export const QUANTITY_SOURCE = String.raw`[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?%|\b\d[\d,]*(?:\.\d+)?[kKMG]?\s?(?:${UNITS_SOURCE})(?![\w/])`;

interface PatternRule {
  kind: CriticalKind;
  /** A weak rule only proposes its units; they become critical if they are rare in the text (see rarity.ts). */
  weak?: true;
  /** Global pattern run once over the whole text. */
  pattern: RegExp;
  /** Extra check on a match the pattern cannot express cheaply. */
  accept?: (match: string) => boolean;
}

interface ScanRule {
  kind: CriticalKind;
  weak?: true;
  /** A hand-written linear scan for what a regex would find slowly. */
  scan: (text: string, units: Unit[], mark: Mark) => void;
}

type Rule = PatternRule | ScanRule;

/** Marks unit `index` as matched by a rule of `kind`. */
type Mark = (index: number, kind: CriticalKind) => void;

const HAS_DIGIT = /\d/;
const HAS_HEX_LETTER = /[a-f]/;
const HEX_LOWER = /^[0-9a-f]+$/;
const UUID = /^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/;
/**
 * Within a run of path characters around a "/": a URL, an absolute, home- or dot-relative path with at least
 * two segments, or a relative path ending in a file extension ("src/app/main.ts").
 */
const SLASH_IDENTIFIER =
  /\b(?:https?|wss?|ftp|file|ssh|git|s3|gs):\/\/\S|(?:^|[=:"'(\x60[])(?:~|\.{1,2})?\/(?:[\w.@+-]+\/)+|^[\w.-]+(?:\/[\w.-]+)+\.[A-Za-z][A-Za-z0-9]{0,7}(?![\w.-]*\/)/;

/** In priority order: a unit matched by several rules takes the first rule's kind. */
const RULES: readonly Rule[] = [
  {
    kind: 'error',
    pattern: new RegExp(
      [
        String.raw`\b(?:ERROR|FATAL|CRITICAL|PANIC|FAIL(?:ED|URE)?)\b`,
        // TypeError, NullPointerException, and a bare "Error:" / "Exception:"
        String.raw`\b[A-Z]\w*(?:Error|Exception)\b|\b(?:Error|Exception):`,
        String.raw`(?:^|\s)(?:error|fatal|panic)(?:\[E\d+\])?:\s`,
        String.raw`\bpanicked at\b`,
        String.raw`Traceback \(most recent call last\)`,
        String.raw`\bSegmentation fault\b|\bcore dumped\b`,
        String.raw`\bexit (?:status|code) [1-9]`,
        String.raw`\bE(?:CONNREFUSED|CONNRESET|NOENT|ACCES|PERM|ADDRINUSE|TIMEDOUT|PIPE|NOMEM|EXIST|NOTFOUND|HOSTUNREACH|NETUNREACH)\b`,
      ].join('|'),
      'gm',
    ),
  },
  {
    kind: 'marker',
    pattern:
      /\b(?:DECISION|DECIDED|REQUIREMENT|CONSTRAINT|NOTE|IMPORTANT|ACTION ITEM)\s*:|\b(?:MUST|SHALL|REQUIRED|TODO|FIXME)\b/g,
  },
  // The same markers in any case when they open a line or bullet ("Decision: …", "- todo: …").
  {
    kind: 'marker',
    pattern: /^[ \t]*(?:[-*][ \t]+)?(?:decision|requirement|note|todo|fixme|important|action item)[ \t]*:/gim,
  },
  { kind: 'metadata', pattern: /\b(?:tool_?call_?id|call_?id|tool_use_id)\b["']?\s*[:=]/gi },
  // SQL statements, up to their semicolon (several lines at most).
  {
    kind: 'code',
    pattern:
      /\b(?:SELECT\s[^;]{0,400}?\bFROM|INSERT\s+INTO|UPDATE\s+[\w."]+\s+SET|DELETE\s+FROM|(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|VIEW|SCHEMA)|MERGE\s+INTO)\b[^;]{0,1500};/g,
  },
  // UUIDs, git SHAs (short or full) and other hex digests; a bare hex run needs a digit and a letter.
  {
    kind: 'identifier',
    pattern: /\b[0-9a-fA-F]{7,64}(?:(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})?\b/g,
    accept: (match) =>
      match.includes('-')
        ? UUID.test(match)
        : HEX_LOWER.test(match) && HAS_DIGIT.test(match) && HAS_HEX_LETTER.test(match),
  },
  { kind: 'identifier', weak: true, scan: (text, units, mark) => markSlashIdentifiers(text, units, mark) },
  { kind: 'identifier', weak: true, pattern: /\b[A-Za-z]:\\[^\s"'<>|]+/g },
  { kind: 'identifier', weak: true, pattern: /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g },
  { kind: 'identifier', weak: true, scan: (text, units, mark) => markEmailAddresses(text, units, mark) },
  { kind: 'quantity', weak: true, pattern: new RegExp(QUANTITY_SOURCE, 'g') },
];

/**
 * Mark every unit that overlaps a critical match: error lines, decision/requirement markers, tool-call ids,
 * SQL statements, UUIDs and SHAs. Each rule runs once over the whole text; a match that spans several units
 * (a quantity broken by a line wrap) marks all of them. Weak matches (paths, URLs, addresses, e-mail addresses,
 * numbers with units) only propose their units: the returned array holds 1 for each, and rarity decides.
 */
export function markCritical(text: string, units: Unit[]): Uint8Array {
  const proposed = new Uint8Array(units.length);
  const strong: Mark = (index, kind) => {
    const unit = units[index]!;
    if (unit.critical === null) unit.critical = kind;
  };
  const weak: Mark = (index) => {
    proposed[index] = 1;
  };
  for (const rule of RULES) {
    const mark = rule.weak ? weak : strong;
    if ('scan' in rule) {
      rule.scan(text, units, mark);
      continue;
    }
    const { pattern, accept } = rule;
    pattern.lastIndex = 0;
    let u = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const found = match[0];
      if (found.length === 0) {
        pattern.lastIndex++;
        continue;
      }
      if (accept === undefined || accept(found))
        u = markRange(units, u, match.index, match.index + found.length, rule.kind, mark);
    }
  }
  return proposed;
}

/** Mark the units overlapping [start, end) from unit `from` on; returns where the next search may start. */
function markRange(units: Unit[], from: number, start: number, end: number, kind: CriticalKind, mark: Mark): number {
  let u = from;
  while (u < units.length && units[u]!.end <= start) u++;
  for (let k = u; k < units.length && units[k]!.start < end; k++) mark(k, kind);
  return u;
}

function isPathChar(code: number): boolean {
  return (
    (code >= 48 && code <= 58) || // 0-9 and ':'
    (code >= 64 && code <= 90) || // '@' and A-Z
    (code >= 97 && code <= 122) ||
    code === 95 || // _
    (code >= 43 && code <= 47) || // + , - . /
    code === 126 || // ~
    code === 37 || // %
    code === 63 || // ?
    code === 61 || // =
    code === 38 || // &
    code === 35 // #
  );
}

/** A local part, "@", and a domain with at least one dot: checked around each "@" only (linear). */
const EMAIL_ADDRESS = /^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$/;

function isEmailChar(code: number): boolean {
  return isPathChar(code) && code !== 47 && code !== 58 && code !== 61 && code !== 38 && code !== 35 && code !== 63;
}

/** E-mail addresses: every "@" is widened to its run of address characters, which is then checked. */
function markEmailAddresses(text: string, units: Unit[], mark: Mark): void {
  let u = 0;
  for (let at = text.indexOf('@'); at !== -1; ) {
    let start = at;
    while (start > 0 && isEmailChar(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && isEmailChar(text.charCodeAt(end))) end++;
    while (end > at + 1 && text.charCodeAt(end - 1) === 46) end--; // a full stop after the address
    if (EMAIL_ADDRESS.test(text.slice(start, end))) u = markRange(units, u, start, end, 'identifier', mark);
    at = text.indexOf('@', end);
  }
}

/** URLs and paths: every "/" is widened to its run of path characters, which is then checked (linear). */
function markSlashIdentifiers(text: string, units: Unit[], mark: Mark): void {
  let u = 0;
  for (let slash = text.indexOf('/'); slash !== -1; ) {
    let start = slash;
    while (start > 0 && isPathChar(text.charCodeAt(start - 1))) start--;
    // A leading quote or bracket tells an absolute path from a fraction; keep one such character.
    if (start > 0 && '"\'(`[='.includes(text[start - 1] ?? '')) start--;
    let end = slash + 1;
    while (end < text.length && isPathChar(text.charCodeAt(end))) end++;
    if (SLASH_IDENTIFIER.test(text.slice(start, end))) u = markRange(units, u, start, end, 'identifier', mark);
    slash = text.indexOf('/', end);
  }
}

/** One chat message; a list of them is rendered with a metadata header line per message. */
export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
  toolCallId?: string;
  timestamp?: string;
}

/** Options of `compress()`. */
export interface CompressOptions {
  /** Token budget (o200k) of the output; an integer >= 1. */
  targetTokens: number;
  /** Keep every critical span verbatim even if that overflows the budget (default true). */
  preserveCritical?: boolean;
  /** Text whose words make matching content rank higher. */
  query?: string;
}

/** What `compress()` returns; token figures are exact o200k counts of whole strings. */
export interface CompressResult {
  output: string;
  tokensIn: number;
  tokensOut: number;
  /** 1 - tokensOut / tokensIn, clamped to 0..1. */
  reduction: number;
  /** Distinct critical spans found in the input (a verbatim repeat counts once, except a message header). */
  criticalSpans: number;
  /** How many of them the output holds verbatim. */
  criticalKept: number;
  /** True when the critical spans alone exceed the budget; the output then holds all of them. */
  overflow: boolean;
  /** Every message header or boundary line found, in input order, and whether the output holds it. */
  headers: HeaderReport[];
}

/** One message header of the input (`[role=tool …]`, `### user · 2026-11-05T03:12Z`, `User:`). */
export interface HeaderReport {
  text: string;
  kept: boolean;
}

/** Why a unit must be kept verbatim. */
export type CriticalKind = 'error' | 'trace' | 'code' | 'identifier' | 'quantity' | 'marker' | 'metadata';

/** A contiguous slice of the rendered input that is kept or dropped as a whole. */
export interface Unit {
  start: number;
  end: number;
  /** Null for ordinary content that is scored; otherwise the first critical kind that matched. */
  critical: CriticalKind | null;
  /** True for the first unit of a paragraph, message or block. */
  leads: boolean;
}

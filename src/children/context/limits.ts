import { z } from 'zod';

/** Longest context content accepted, in UTF-16 code units: 1 MiB of ASCII, a large source file or document. */
export const MAX_CONTENT_CHARS = 1_048_576;
/** Largest metadata object, as JSON characters: metadata labels a context, it does not carry it. */
export const MAX_METADATA_CHARS = 65_536;
/** Longest search query or snapshot name or id. */
export const MAX_QUERY_CHARS = 4_096;
/** Most contexts one retrieve_context or list_contexts call returns. */
export const MAX_RESULTS = 1_000;
/** Most ephemeral contexts kept in memory; the oldest is dropped beyond this, so a chatty client cannot exhaust RAM. */
export const MAX_EPHEMERAL_CONTEXTS = 10_000;

/** A lone surrogate: such text cannot be stored as UTF-8 without being altered. */
const LONE_SURROGATE = /\p{Cs}/u;

/** True when a string is well-formed Unicode (no lone surrogates). */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** A string argument of at most `max` characters that must be well-formed Unicode; `what` names it in errors. */
export function boundedString(what: string, max: number) {
  return z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine(isWellFormedText, `${what} contains a lone surrogate: send well-formed Unicode text`);
}

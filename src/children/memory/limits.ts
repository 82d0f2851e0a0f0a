import { z } from 'zod';

/** Longest string argument accepted, in UTF-16 code units: 1 MiB of ASCII, well above any real observation. */
export const MAX_STRING_CHARS = 1_048_576;
/** Most items in one array argument: keeps one call's transaction and result to a bounded size. */
export const MAX_ARRAY_ITEMS = 10_000;

/** A lone surrogate: such text cannot be stored as UTF-8 without being altered. */
const LONE_SURROGATE = /\p{Cs}/u;

/** True when a string is well-formed Unicode (no lone surrogates). */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** A string argument capped at MAX_STRING_CHARS that must be well-formed Unicode; `what` names it in errors. */
export function boundedString(what: string) {
  return z
    .string()
    .max(MAX_STRING_CHARS, `${what} is longer than ${MAX_STRING_CHARS} characters: split it into smaller pieces`)
    .refine(isWellFormedText, `${what} contains a lone surrogate: send well-formed Unicode text`);
}

/** An array argument capped at MAX_ARRAY_ITEMS; `what` names it in errors. */
export function boundedArray<T extends z.ZodType>(item: T, what: string) {
  return z.array(item).max(MAX_ARRAY_ITEMS, `${what} has more than ${MAX_ARRAY_ITEMS} items: send them in batches`);
}

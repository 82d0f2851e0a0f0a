import { z } from 'zod';

/** Longest thought accepted, in UTF-16 code units: 1 MiB of ASCII, far beyond any single reasoning step. */
export const MAX_THOUGHT_CHARS = 1_048_576;
/** Longest session or branch id: ids are names, not payloads. */
export const MAX_ID_CHARS = 256;
/** Most sessions one list_sessions page returns. */
export const MAX_PAGE_SIZE = 1_000;

/** A lone surrogate: such text cannot be stored as UTF-8 without being altered. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A string argument of at most `max` characters that must be well-formed Unicode; `what` names it in errors. */
export function boundedString(what: string, max: number) {
  return z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((value) => !LONE_SURROGATE.test(value), `${what} contains a lone surrogate: send well-formed Unicode text`);
}

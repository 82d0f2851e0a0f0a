import { z } from 'zod';
import { CONTEXT_LEVELS } from './context-store.js';
import { boundedString, MAX_METADATA_CHARS, MAX_QUERY_CHARS, MAX_RESULTS } from './limits.js';

/** A context level argument. */
export const levelSchema = z
  .enum(CONTEXT_LEVELS)
  .describe('project, session, task, code, memory, audit, or ephemeral (kept in memory only, never on disk)');

/** A metadata argument: a JSON object of at most MAX_METADATA_CHARS characters once serialized. */
export const metadataSchema = z
  .record(z.string(), z.unknown())
  .refine(
    (value) => JSON.stringify(value).length <= MAX_METADATA_CHARS,
    `metadata is larger than ${MAX_METADATA_CHARS} characters as JSON: keep labels in it, content in content`,
  )
  .describe('Any JSON object describing the context (source, file, tags, ...)');

/** A page size argument, 1 to MAX_RESULTS. */
export function limitSchema(defaultLimit: number) {
  return z
    .number()
    .int()
    .min(1)
    .max(MAX_RESULTS, `limit is above ${MAX_RESULTS}: page with offset instead`)
    .optional()
    .describe(`Most contexts to return (default ${defaultLimit}, at most ${MAX_RESULTS})`);
}

/** A snapshot id-or-name argument. */
export const snapshotRefSchema = boundedString('snapshot', MAX_QUERY_CHARS)
  .min(1, 'snapshot is empty')
  .describe('The snapshot id or name');

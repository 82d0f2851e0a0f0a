import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { textResult } from '../shared/index.js';
import type { AllowedRepositories } from './repositories.js';
import { type GitOutput, truncationNote } from './run-git.js';

/** What every git tool handler works with. */
export interface GitContext {
  repositories: AllowedRepositories;
}

/** Annotations of tools that only read the repository: the gateway may cache their results. */
export const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

/** Annotations of tools that change the repository, as the reference server declares them. */
export function changes(options: { destructive: boolean; idempotent: boolean }): ToolAnnotations {
  return {
    readOnlyHint: false,
    destructiveHint: options.destructive,
    idempotentHint: options.idempotent,
    openWorldHint: false,
  };
}

/** The `repo_path` argument every tool takes. */
export const repoPath = z.string().describe('Path to the git repository (inside the configured repositories)');

/** A text result from a header and git's output, saying so when the output was cut at the cap. */
export function gitText(header: string, output: GitOutput): CallToolResult {
  return textResult(header + output.stdout + (output.truncated ? truncationNote() : ''));
}

/** Checks a whole-number argument, with a message naming it and its range. */
export function wholeNumber(value: number, argument: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`Invalid ${argument}: expected a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardTool } from '../shared/index.js';
import { MAX_CONTEXT_LINES, MAX_LOG_COUNT } from './limits.js';
import { assertNotOption, resolveCommit, resolveDiffTarget } from './revisions.js';
import { runGit } from './run-git.js';
import { type GitContext, gitText, READ_ONLY, repoPath, wholeNumber } from './tool-kit.js';

/** Diff options shared by every diff: plain patches, no external diff program or text conversion. */
const DIFF_FLAGS = ['--no-ext-diff', '--no-textconv', '--no-color'];

/**
 * How git_log and git_show describe a commit: SHA, author, strict ISO 8601 author date and the full message, the
 * same lines as the reference server without its Python quoting, so `git log --format=…` reproduces them exactly.
 */
export const COMMIT_FORMAT = 'Commit: %H%nAuthor: %an <%ae>%nDate: %aI%nMessage: %B';

/** `git branch` options for each branch_type. */
const BRANCH_SCOPES = new Map<string, string[]>([
  ['local', []],
  ['remote', ['--remotes']],
  ['all', ['--all']],
]);

const contextLines = z.number().default(3).describe('Number of context lines around each change');

const TIMESTAMP_HELP =
  "Accepts ISO 8601 (e.g. '2024-01-15T14:30:25'), relative dates (e.g. '2 weeks ago', 'yesterday') or absolute " +
  "dates (e.g. '2024-01-15', 'Jan 15 2024')";

function unified(value: number): string {
  return `--unified=${wholeNumber(value, 'context_lines', 0, MAX_CONTEXT_LINES)}`;
}

/** Registers the tools that only read: git_status, the three diffs, git_log, git_show and git_branch. */
export function registerInspectTools(server: McpServer, context: GitContext): void {
  const repos = context.repositories;

  server.registerTool(
    'git_status',
    { description: 'Shows the working tree status', inputSchema: { repo_path: repoPath }, annotations: READ_ONLY },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        return gitText('Repository status:\n', await runGit(['status'], { ...repo, signal: extra.signal }));
      }),
  );

  server.registerTool(
    'git_diff_unstaged',
    {
      description: 'Shows changes in the working directory that are not yet staged',
      inputSchema: { repo_path: repoPath, context_lines: contextLines },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        const output = await runGit(['diff', ...DIFF_FLAGS, unified(args.context_lines)], {
          ...repo,
          signal: extra.signal,
        });
        return gitText('Unstaged changes:\n', output);
      }),
  );

  server.registerTool(
    'git_diff_staged',
    {
      description: 'Shows changes that are staged for commit',
      inputSchema: { repo_path: repoPath, context_lines: contextLines },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        const output = await runGit(['diff', ...DIFF_FLAGS, unified(args.context_lines), '--cached'], {
          ...repo,
          signal: extra.signal,
        });
        return gitText('Staged changes:\n', output);
      }),
  );

  server.registerTool(
    'git_diff',
    {
      description: 'Shows differences between branches or commits (a revision, or a range A..B or A...B)',
      inputSchema: {
        repo_path: repoPath,
        target: z.string().describe('Revision to compare the working tree with, or a range A..B / A...B'),
        context_lines: contextLines,
      },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        const target = await resolveDiffTarget(repo, args.target, extra.signal);
        const output = await runGit(
          ['diff', ...DIFF_FLAGS, unified(args.context_lines), '--end-of-options', target, '--'],
          { ...repo, signal: extra.signal },
        );
        return gitText(`Diff with ${args.target}:\n`, output);
      }),
  );

  server.registerTool(
    'git_log',
    {
      description: 'Shows the commit logs',
      inputSchema: {
        repo_path: repoPath,
        max_count: z.number().default(10).describe(`Most commits to show (1 to ${MAX_LOG_COUNT})`),
        start_timestamp: z
          .string()
          .nullable()
          .optional()
          .describe(`Start timestamp for filtering commits. ${TIMESTAMP_HELP}`),
        end_timestamp: z
          .string()
          .nullable()
          .optional()
          .describe(`End timestamp for filtering commits. ${TIMESTAMP_HELP}`),
      },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        const gitArgs = ['log', `--max-count=${wholeNumber(args.max_count, 'max_count', 1, MAX_LOG_COUNT)}`];
        if (args.start_timestamp) {
          assertNotOption(args.start_timestamp, 'start_timestamp');
          gitArgs.push(`--since=${args.start_timestamp}`);
        }
        if (args.end_timestamp) {
          assertNotOption(args.end_timestamp, 'end_timestamp');
          gitArgs.push(`--until=${args.end_timestamp}`);
        }
        gitArgs.push(`--format=${COMMIT_FORMAT}`);
        return gitText('Commit history:\n', await runGit(gitArgs, { ...repo, signal: extra.signal }));
      }),
  );

  server.registerTool(
    'git_show',
    {
      description: 'Shows the contents of a commit: its metadata, then its patch against its first parent',
      inputSchema: { repo_path: repoPath, revision: z.string().describe('Commit, branch, tag or revision expression') },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        const sha = await resolveCommit(repo, args.revision, 'revision', extra.signal);
        const output = await runGit(
          [
            'show',
            ...DIFF_FLAGS,
            `--format=${COMMIT_FORMAT}`,
            '--patch',
            '--diff-merges=first-parent',
            '--end-of-options',
            sha,
          ],
          { ...repo, signal: extra.signal },
        );
        return gitText('', output);
      }),
  );

  server.registerTool(
    'git_branch',
    {
      description: 'List Git branches',
      inputSchema: {
        repo_path: z.string().describe('The path to the Git repository.'),
        branch_type: z
          .string()
          .describe("Whether to list local branches ('local'), remote branches ('remote') or all branches('all')."),
        contains: z
          .string()
          .nullable()
          .optional()
          .describe(
            'The commit sha that branch should contain. Do not pass anything to this param if no commit sha is specified',
          ),
        not_contains: z
          .string()
          .nullable()
          .optional()
          .describe(
            'The commit sha that branch should NOT contain. Do not pass anything to this param if no commit sha is specified',
          ),
      },
      annotations: READ_ONLY,
    },
    (args, extra) =>
      guardTool(async () => {
        const scope = BRANCH_SCOPES.get(args.branch_type);
        if (scope === undefined) {
          throw new Error(`Invalid branch type: ${args.branch_type}; expected 'local', 'remote' or 'all'`);
        }
        const repo = await repos.resolve(args.repo_path, extra);
        const gitArgs = ['branch', ...scope];
        if (args.contains)
          gitArgs.push(`--contains=${await resolveCommit(repo, args.contains, 'contains', extra.signal)}`);
        if (args.not_contains) {
          gitArgs.push(`--no-contains=${await resolveCommit(repo, args.not_contains, 'not_contains', extra.signal)}`);
        }
        return gitText('', await runGit(gitArgs, { ...repo, signal: extra.signal }));
      }),
  );
}

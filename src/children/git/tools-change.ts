import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardTool, textResult } from '../shared/index.js';
import { identityOverrides } from './identity.js';
import { MAX_ADD_FILES } from './limits.js';
import { assertNotOption, resolveCommit } from './revisions.js';
import { runGit } from './run-git.js';
import { changes, type GitContext, repoPath } from './tool-kit.js';

/** Registers the tools that change the repository: git_commit, git_add, git_reset, git_create_branch, git_checkout. */
export function registerChangeTools(server: McpServer, context: GitContext): void {
  const repos = context.repositories;

  server.registerTool(
    'git_commit',
    {
      description: 'Records changes to the repository (what is staged, with the message as given; hooks do not run)',
      inputSchema: { repo_path: repoPath, message: z.string().describe('Commit message') },
      annotations: changes({ destructive: false, idempotent: false }),
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        if (args.message.trim() === '') throw new Error('Invalid message: a commit needs a non-empty message');
        await runGit(['commit', '--no-verify', '--no-gpg-sign', '--cleanup=verbatim', `--message=${args.message}`], {
          ...repo,
          overrides: await identityOverrides(repo, extra.signal),
          signal: extra.signal,
        });
        const { stdout } = await runGit(['rev-parse', '--verify', 'HEAD'], { ...repo, signal: extra.signal });
        return textResult(`Changes committed successfully with hash ${stdout.trim()}`);
      }),
  );

  server.registerTool(
    'git_add',
    {
      description: 'Adds file contents to the staging area (paths relative to the top of the repository, or ".")',
      inputSchema: { repo_path: repoPath, files: z.array(z.string()).min(1).describe('Paths or pathspecs to stage') },
      annotations: changes({ destructive: false, idempotent: true }),
    },
    (args, extra) =>
      guardTool(async () => {
        if (args.files.length > MAX_ADD_FILES) {
          throw new Error(`Too many files: ${args.files.length}; stage at most ${MAX_ADD_FILES} per call`);
        }
        for (const file of args.files) {
          if (file === '' || file.includes('\0')) throw new Error('Invalid files: each must be a non-empty path');
        }
        const repo = await repos.resolve(args.repo_path, extra);
        await runGit(['add', '--', ...args.files], { ...repo, signal: extra.signal });
        return textResult('Files staged successfully');
      }),
  );

  server.registerTool(
    'git_reset',
    {
      description: 'Unstages all staged changes (the working tree is left as it is)',
      inputSchema: { repo_path: repoPath },
      annotations: changes({ destructive: true, idempotent: true }),
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        await runGit(['reset', '--quiet'], { ...repo, signal: extra.signal });
        return textResult('All staged changes reset');
      }),
  );

  server.registerTool(
    'git_create_branch',
    {
      description: 'Creates a new branch from an optional base branch (default: the current branch)',
      inputSchema: {
        repo_path: repoPath,
        branch_name: z.string().describe('Name of the new branch'),
        base_branch: z.string().nullable().optional().describe('Branch, tag or commit to start from'),
      },
      annotations: changes({ destructive: false, idempotent: false }),
    },
    (args, extra) =>
      guardTool(async () => {
        assertNotOption(args.branch_name, 'branch name');
        const repo = await repos.resolve(args.repo_path, extra);
        let base: string;
        let label: string;
        if (args.base_branch) {
          base = await resolveCommit(repo, args.base_branch, 'base branch', extra.signal);
          label = args.base_branch;
        } else {
          base = await resolveCommit(repo, 'HEAD', 'base branch', extra.signal).catch(() => {
            throw new Error('The current branch has no commits yet; commit first or pass base_branch');
          });
          // A detached HEAD has no branch name; the label then says HEAD.
          label = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { ...repo, signal: extra.signal })
            .then((output) => output.stdout.trim())
            .catch(() => 'HEAD');
        }
        await runGit(['branch', '--end-of-options', args.branch_name, base], { ...repo, signal: extra.signal });
        return textResult(`Created branch '${args.branch_name}' from '${label}'`);
      }),
  );

  server.registerTool(
    'git_checkout',
    {
      description: 'Switches branches (refuses when local changes would be overwritten)',
      inputSchema: { repo_path: repoPath, branch_name: z.string().describe('Branch (or commit) to switch to') },
      annotations: changes({ destructive: false, idempotent: false }),
    },
    (args, extra) =>
      guardTool(async () => {
        const repo = await repos.resolve(args.repo_path, extra);
        await resolveCommit(repo, args.branch_name, 'branch name', extra.signal);
        // The trailing `--` makes git read the name as a revision only, never as a file to restore.
        await runGit(['checkout', args.branch_name, '--'], { ...repo, signal: extra.signal });
        return textResult(`Switched to branch '${args.branch_name}'`);
      }),
  );
}

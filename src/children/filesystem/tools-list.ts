import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { isWithinAny } from './allowed-roots.js';
import { withContainedDir } from './contained.js';
import { formatListing, formatSizedListing, type SizedEntry } from './format.js';
import { compileGlob } from './glob.js';
import {
  MAX_LIST_ENTRIES,
  MAX_SEARCH_RESULTS,
  MAX_SEARCH_VISITED,
  MAX_TREE_ENTRIES,
  WALK_BUDGET_MS,
} from './limits.js';
import { resolveAllowedPath } from './resolve-path.js';
import { type FilesystemContext, READ_ONLY, runTool, TEXT_OUTPUT, textOutput } from './tool-kit.js';
import {
  buildDirectoryTree,
  compileSearchExcludes,
  compileTreeExcludes,
  readContainedDir,
  searchFiles,
  type WalkOptions,
  type WalkStop,
} from './walk.js';

/** How many entries list_directory_with_sizes stats at once: parallel enough to be quick, few enough open files. */
const STAT_BATCH = 256;

/** An entry's size: its target's for a link that stays inside the roots, the link's own for one that escapes. */
async function sizeOf(path: string, isLink: boolean, roots: readonly string[]): Promise<number> {
  try {
    if (isLink && !isWithinAny(await realpath(path), roots)) return (await lstat(path)).size;
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Sizes of `entries` of the directory reached through the checked descriptor path `at`. */
async function statEntries(at: string, entries: readonly Dirent[], roots: readonly string[]): Promise<SizedEntry[]> {
  const sized: SizedEntry[] = [];
  for (let start = 0; start < entries.length; start += STAT_BATCH) {
    const batch = entries.slice(start, start + STAT_BATCH);
    const sizes = await Promise.all(batch.map((entry) => sizeOf(join(at, entry.name), entry.isSymbolicLink(), roots)));
    batch.forEach((entry, i) => {
      sized.push({ name: entry.name, isDirectory: entry.isDirectory(), size: sizes[i]! });
    });
  }
  return sized;
}

function walkOptions(context: FilesystemContext, roots: readonly string[], maxEntries: number): WalkOptions {
  return { roots, maxEntries, budgetMs: WALK_BUDGET_MS, now: context.now };
}

function describeStop(stopped: WalkStop): string {
  switch (stopped) {
    case 'results':
      return `[Search stopped after ${MAX_SEARCH_RESULTS} matches; narrow the path or pattern to see the rest]`;
    case 'entries':
      return `[Search stopped after examining ${MAX_SEARCH_VISITED} entries; narrow the path or add excludePatterns]`;
    case 'time':
      return `[Search stopped after ${WALK_BUDGET_MS / 1000} s; narrow the path or add excludePatterns]`;
    default:
      return '';
  }
}

/** Registers list_directory, list_directory_with_sizes and directory_tree. */
export function registerListTools(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'list_directory',
    {
      title: 'List Directory',
      description:
        'List the entries of a directory, each marked [DIR] or [FILE], in directory order ' +
        `(at most ${MAX_LIST_ENTRIES}). Only works within allowed directories.`,
      inputSchema: { path: z.string() },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('list_directory', context, request, async (roots) => {
        const path = await resolveAllowedPath(args.path, roots);
        return textOutput(formatListing(await readContainedDir(path, roots), MAX_LIST_ENTRIES));
      }),
  );

  server.registerTool(
    'list_directory_with_sizes',
    {
      title: 'List Directory with Sizes',
      description:
        'List the entries of a directory with [DIR]/[FILE] markers and file sizes, sorted by name or size, ' +
        'followed by totals. Only works within allowed directories.',
      inputSchema: {
        path: z.string(),
        sortBy: z.enum(['name', 'size']).optional().default('name').describe('Sort entries by name or size'),
      },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('list_directory_with_sizes', context, request, async (roots) => {
        const path = await resolveAllowedPath(args.path, roots);
        const sized = await withContainedDir(path, roots, async (at) =>
          statEntries(at, await readdir(at, { withFileTypes: true }), roots),
        );
        return textOutput(formatSizedListing(sized, args.sortBy, MAX_LIST_ENTRIES));
      }),
  );

  server.registerTool(
    'directory_tree',
    {
      title: 'Directory Tree',
      description:
        'A recursive tree of a directory as JSON (2-space indent): each entry has name and type (file or ' +
        'directory) and directories have children. Links are not followed. excludePatterns are globs; a pattern ' +
        `without * also excludes that name anywhere. At most ${MAX_TREE_ENTRIES} entries.`,
      inputSchema: { path: z.string(), excludePatterns: z.array(z.string()).optional().default([]) },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('directory_tree', context, request, async (roots) => {
        const path = await resolveAllowedPath(args.path, roots);
        const tree = await buildDirectoryTree(
          path,
          compileTreeExcludes(args.excludePatterns),
          walkOptions(context, roots, MAX_TREE_ENTRIES),
        );
        return textOutput(JSON.stringify(tree, null, 2));
      }),
  );
}

/** Registers search_files. */
export function registerSearchTool(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'search_files',
    {
      title: 'Search Files',
      description:
        'Recursively find files and directories whose path relative to the given directory matches a glob ' +
        "('*.ext' for the top level, '**/*.ext' at any depth). Returns full paths, at most " +
        `${MAX_SEARCH_RESULTS}. Only searches within allowed directories.`,
      inputSchema: {
        path: z.string(),
        pattern: z.string(),
        excludePatterns: z.array(z.string()).optional().default([]),
      },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('search_files', context, request, async (roots) => {
        const path = await resolveAllowedPath(args.path, roots);
        const outcome = await searchFiles(
          path,
          compileGlob(args.pattern),
          compileSearchExcludes(args.excludePatterns),
          MAX_SEARCH_RESULTS,
          walkOptions(context, roots, MAX_SEARCH_VISITED),
        );
        const lines = outcome.matches.length > 0 ? [...outcome.matches] : ['No matches found'];
        if (outcome.stopped) lines.push(describeStop(outcome.stopped));
        return textOutput(lines.join('\n'));
      }),
  );
}

/** Registers list_allowed_directories. */
export function registerAllowedDirectoriesTool(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'list_allowed_directories',
    {
      title: 'List Allowed Directories',
      description:
        'The directories this server may access (from its configuration, narrowed by the client’s roots when ' +
        'the client declares any). Everything below them is accessible too.',
      inputSchema: {},
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (_args, request) =>
      runTool('list_allowed_directories', context, request, async (roots) =>
        textOutput(`Allowed directories:\n${roots.join('\n')}`),
      ),
  );
}

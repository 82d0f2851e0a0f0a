import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { makeContainedDirectory, withContainedDir } from './contained.js';
import { isFree, readTextCapped, writeFileAtomic } from './file-io.js';
import { MAX_READ_BYTES } from './limits.js';
import { assertWritable, resolveAllowedEntry, resolveAllowedPath } from './resolve-path.js';
import { applyTextEdits, formatEditDiff } from './text-edits.js';
import { type FilesystemContext, runTool, TEXT_OUTPUT, textOutput } from './tool-kit.js';

function writes(options: { destructive: boolean; idempotent: boolean }): ToolAnnotations {
  return {
    readOnlyHint: false,
    destructiveHint: options.destructive,
    idempotentHint: options.idempotent,
    openWorldHint: false,
  };
}

/** Registers write_file, edit_file and create_directory. */
export function registerWriteTools(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'write_file',
    {
      title: 'Write File',
      description:
        'Create a file or replace an existing one with new text, atomically (readers never see a partial ' +
        'file) and keeping its permissions. Overwrites without asking. Only works within allowed directories.',
      inputSchema: { path: z.string(), content: z.string() },
      outputSchema: TEXT_OUTPUT,
      annotations: writes({ destructive: true, idempotent: true }),
    },
    (args, request) =>
      runTool('write_file', context, request, async (roots) => {
        const path = assertWritable(await resolveAllowedPath(args.path, roots));
        await writeFileAtomic(path, roots, args.content);
        return textOutput(`Successfully wrote to ${args.path}`);
      }),
  );

  server.registerTool(
    'edit_file',
    {
      title: 'Edit File',
      description:
        'Replace text in a file: each edit swaps the first match of oldText (exact, else line by line ignoring ' +
        'indentation) for newText, in order. Returns a git-style diff; with dryRun the file is left unchanged. ' +
        'Files up to 1 MiB. Only works within allowed directories.',
      inputSchema: {
        path: z.string(),
        edits: z.array(
          z.object({
            oldText: z.string().describe('Text to search for - must match exactly'),
            newText: z.string().describe('Text to replace with'),
          }),
        ),
        dryRun: z.boolean().default(false).describe('Preview changes using git-style diff format'),
      },
      outputSchema: TEXT_OUTPUT,
      annotations: writes({ destructive: true, idempotent: false }),
    },
    (args, request) =>
      runTool('edit_file', context, request, async (roots) => {
        const path = assertWritable(await resolveAllowedPath(args.path, roots));
        const original = await readTextCapped(path, roots, MAX_READ_BYTES, 'edit_file works on files up to that size');
        const modified = applyTextEdits(original, args.edits);
        const diff = formatEditDiff(path, original, modified);
        if (!args.dryRun) await writeFileAtomic(path, roots, modified);
        return textOutput(diff);
      }),
  );

  server.registerTool(
    'create_directory',
    {
      title: 'Create Directory',
      description:
        'Create a directory, with any missing parents; succeeds silently when it already exists. ' +
        'Only works within allowed directories.',
      inputSchema: { path: z.string() },
      outputSchema: TEXT_OUTPUT,
      annotations: writes({ destructive: false, idempotent: true }),
    },
    (args, request) =>
      runTool('create_directory', context, request, async (roots) => {
        const path = assertWritable(await resolveAllowedPath(args.path, roots));
        await makeContainedDirectory(path, roots);
        return textOutput(`Successfully created directory ${args.path}`);
      }),
  );
}

/** Registers move_file. */
export function registerMoveTool(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'move_file',
    {
      title: 'Move File',
      description:
        'Move or rename a file or directory (a symbolic link is moved itself, not its target). Fails when the ' +
        'destination exists. Both paths must be within allowed directories.',
      inputSchema: { source: z.string(), destination: z.string() },
      outputSchema: TEXT_OUTPUT,
      annotations: writes({ destructive: true, idempotent: false }),
    },
    (args, request) =>
      runTool('move_file', context, request, async (roots) => {
        const source = assertWritable(await resolveAllowedEntry(args.source, roots, 'source'));
        if (await isFree(source)) throw new Error(`Source does not exist: ${args.source}`);
        const destination = assertWritable(await resolveAllowedEntry(args.destination, roots, 'destination'));
        // Both names are taken below checked descriptors of their directories, so the rename stays in the roots
        // even if either directory is swapped for a link between the checks above and the rename.
        await withContainedDir(dirname(source), roots, (sourceDir, sourceReal) =>
          withContainedDir(dirname(destination), roots, async (destinationDir, destinationReal) => {
            assertWritable(join(sourceReal, basename(source)));
            assertWritable(join(destinationReal, basename(destination)));
            const from = join(sourceDir, basename(source));
            const to = join(destinationDir, basename(destination));
            if (await isFree(from)) throw new Error(`Source does not exist: ${args.source}`);
            if (!(await isFree(to))) throw new Error(`Destination already exists: ${destination}`);
            try {
              await rename(from, to);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'EXDEV') {
                throw new Error(
                  `Cannot move ${args.source} to ${args.destination}: they are on different file systems`,
                );
              }
              throw error;
            }
          }),
        );
        return textOutput(`Successfully moved ${args.source} to ${args.destination}`);
      }),
  );
}

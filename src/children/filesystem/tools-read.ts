import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { openContainedEntry } from './contained.js';
import { readFileCapped, readHead, readTail, readTextCapped } from './file-io.js';
import { formatFileInfo } from './format.js';
import { MAX_MULTI_READ_BYTES, MAX_MULTI_READ_FILES, MAX_READ_BYTES } from './limits.js';
import { resolveAllowedPath } from './resolve-path.js';
import { type FilesystemContext, READ_ONLY, type RequestInfo, runTool, TEXT_OUTPUT, textOutput } from './tool-kit.js';

/** MIME types read_media_file recognises by extension; anything else is `application/octet-stream`. */
const MIME_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.flac': 'audio/flac',
};

/** A head/tail argument: undefined or 0 mean the whole file; anything else must be a positive whole number. */
function lineCount(value: number | undefined, name: string): number | undefined {
  if (value === undefined || value === 0) return undefined;
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`Invalid ${name}: expected a whole number of lines >= 1, got ${value}`);
  }
  return value;
}

const readTextInput = {
  path: z.string(),
  tail: z.number().optional().describe('If provided, returns only the last N lines of the file'),
  head: z.number().optional().describe('If provided, returns only the first N lines of the file'),
};

/** Registers read_file (the deprecated alias of read_text_file), read_text_file, read_media_file and read_multiple_files. */
export function registerReadTools(server: McpServer, context: FilesystemContext): void {
  const readText = (
    args: { path: string; head?: number; tail?: number },
    request: RequestInfo,
  ): Promise<CallToolResult> =>
    runTool('read_text_file', context, request, async (roots) => {
      const path = await resolveAllowedPath(args.path, roots);
      const head = lineCount(args.head, 'head');
      const tail = lineCount(args.tail, 'tail');
      if (head !== undefined && tail !== undefined) {
        throw new Error('Cannot specify both head and tail parameters simultaneously');
      }
      if (tail !== undefined) return textOutput(await readTail(path, roots, tail, MAX_READ_BYTES));
      if (head !== undefined) return textOutput(await readHead(path, roots, head, MAX_READ_BYTES));
      return textOutput(await readTextCapped(path, roots, MAX_READ_BYTES));
    });

  server.registerTool(
    'read_file',
    {
      title: 'Read File (Deprecated)',
      description: 'Read the complete contents of a file as text. DEPRECATED: use read_text_file instead.',
      inputSchema: readTextInput,
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    readText,
  );

  server.registerTool(
    'read_text_file',
    {
      title: 'Read Text File',
      description:
        'Read a file inside the allowed directories as UTF-8 text. Pass head to get only the first N lines or ' +
        'tail for the last N lines. Files over 1 MiB must be read with head or tail.',
      inputSchema: readTextInput,
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    readText,
  );

  server.registerTool(
    'read_media_file',
    {
      title: 'Read Media File',
      description:
        'Read an image or audio file (up to 1 MiB) and return it base64-encoded with its MIME type; other ' +
        'files come back as an embedded resource. Only works within allowed directories.',
      inputSchema: { path: z.string() },
      outputSchema: {
        content: z.array(
          z.union([
            z.object({ type: z.enum(['image', 'audio']), data: z.string(), mimeType: z.string() }),
            z.object({
              type: z.literal('resource'),
              resource: z.object({ uri: z.string(), mimeType: z.string().optional(), blob: z.string() }),
            }),
          ]),
        ),
      },
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('read_media_file', context, request, async (roots) => {
        const path = await resolveAllowedPath(args.path, roots);
        const mimeType = MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
        const data = (
          await readFileCapped(path, roots, MAX_READ_BYTES, 'media files are returned up to that size')
        ).toString('base64');
        const item = mimeType.startsWith('image/')
          ? { type: 'image' as const, data, mimeType }
          : mimeType.startsWith('audio/')
            ? { type: 'audio' as const, data, mimeType }
            : { type: 'resource' as const, resource: { uri: pathToFileURL(path).href, mimeType, blob: data } };
        return { content: [item], structuredContent: { content: [item] } };
      }),
  );

  server.registerTool(
    'read_multiple_files',
    {
      title: 'Read Multiple Files',
      description:
        'Read several text files at once; each comes back under its path, and a file that cannot be read shows ' +
        `its error without failing the others. At most ${MAX_MULTI_READ_FILES} files and 1 MiB in total.`,
      inputSchema: {
        paths: z.array(z.string()).min(1).describe('Paths of the files to read, each inside the allowed directories.'),
      },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('read_multiple_files', context, request, async (roots) => {
        if (args.paths.length > MAX_MULTI_READ_FILES) {
          throw new Error(`Too many paths: ${args.paths.length}; read at most ${MAX_MULTI_READ_FILES} files per call`);
        }
        let budget = MAX_MULTI_READ_BYTES;
        const parts: string[] = [];
        for (const filePath of args.paths) {
          try {
            const path = await resolveAllowedPath(filePath, roots);
            const content = await readFileCapped(path, roots, MAX_READ_BYTES);
            if (content.length > budget) {
              throw new Error('skipped: the files before it used up the 1 MiB total read limit; read it separately');
            }
            budget -= content.length;
            parts.push(`${filePath}:\n${content.toString('utf8')}\n`);
          } catch (error) {
            parts.push(`${filePath}: Error - ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        return textOutput(parts.join('\n---\n'));
      }),
  );
}

/** Registers get_file_info. */
export function registerFileInfoTool(server: McpServer, context: FilesystemContext): void {
  server.registerTool(
    'get_file_info',
    {
      title: 'Get File Info',
      description:
        'Show a file or directory’s size, creation, modification and access times, type and permissions, ' +
        'without reading its content. Only works within allowed directories.',
      inputSchema: { path: z.string() },
      outputSchema: TEXT_OUTPUT,
      annotations: READ_ONLY,
    },
    (args, request) =>
      runTool('get_file_info', context, request, async (roots) => {
        const handle = await openContainedEntry(await resolveAllowedPath(args.path, roots), roots);
        try {
          return textOutput(formatFileInfo(await handle.stat()));
        } finally {
          await handle.close();
        }
      }),
  );
}

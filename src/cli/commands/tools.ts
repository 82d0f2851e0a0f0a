import { OmnimindError } from '../../protocol/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';
import { asCliError, openEndpointClient } from '../mcp-client.js';
import { formatTable } from '../output.js';

/** The supervisor times requests out (`limiter.timeoutMs`); the CLI's own bound only catches a supervisor that vanished. */
const CALL_TIMEOUT_MS = 24 * 60 * 60 * 1_000;

interface ToolDescription {
  name: string;
  description?: string;
  annotations?: Record<string, unknown>;
}

/** `omnimind tools <endpoint> [--json]`: list the tools of a child or a profile. */
export async function toolsCommand(endpoint: string, options: GlobalOptions & { json?: boolean }): Promise<number> {
  const client = await openEndpointClient(pathsFor(options), endpoint);
  try {
    const tools: ToolDescription[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}).catch((error: unknown) => {
        throw asCliError(error);
      });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    } else {
      const rows = tools.map((t) => [
        t.name,
        t.annotations?.readOnlyHint === true ? 'read-only' : '',
        (t.description ?? '').split('\n')[0]?.slice(0, 80) ?? '',
      ]);
      process.stdout.write(`${formatTable(['TOOL', 'KIND', 'DESCRIPTION'], rows)}\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}

/** `omnimind call <endpoint> <tool> [JSON] [--json]`: call one tool and print its result; exit 1 if it is an error. */
export async function callCommand(
  endpoint: string,
  tool: string,
  json: string | undefined,
  options: GlobalOptions & { json?: boolean },
): Promise<number> {
  let args: unknown = {};
  if (json !== undefined) {
    try {
      args = JSON.parse(json === '-' ? await readStdin() : json);
    } catch (error) {
      throw new OmnimindError(
        'USAGE',
        `The arguments are not valid JSON: ${(error as Error).message}. Pass an object such as '{"path": "."}'.`,
        { exitCode: 2 },
      );
    }
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new OmnimindError('USAGE', 'The arguments must be a JSON object, such as \'{"path": "."}\'.', {
      exitCode: 2,
    });
  }
  const client = await openEndpointClient(pathsFor(options), endpoint);
  try {
    const result = (await client
      .callTool({ name: tool, arguments: args as Record<string, unknown> }, undefined, { timeout: CALL_TIMEOUT_MS })
      .catch((error: unknown) => {
        throw asCliError(error);
      })) as { content?: Array<{ type: string; text?: string }>; isError?: boolean };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      for (const block of result.content ?? []) {
        process.stdout.write(block.type === 'text' ? `${block.text ?? ''}\n` : `${JSON.stringify(block)}\n`);
      }
    }
    return result.isError ? 1 : 0;
  } finally {
    await client.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

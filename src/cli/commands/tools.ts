import { OmnimindError } from '../../protocol/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';
import { SocketMcpClient } from '../mcp-client.js';
import { formatTable } from '../output.js';

interface ToolDescription {
  name: string;
  description?: string;
  annotations?: Record<string, unknown>;
}

/** `omnimind tools <child> [--json]`: list the child's tools. */
export async function toolsCommand(child: string, options: GlobalOptions & { json?: boolean }): Promise<number> {
  const client = await SocketMcpClient.open(pathsFor(options), child);
  try {
    const tools: ToolDescription[] = [];
    let cursor: string | undefined;
    do {
      const page = (await client.request('tools/list', cursor ? { cursor } : {})) as {
        tools: ToolDescription[];
        nextCursor?: string;
      };
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
    client.close();
  }
}

/** `omnimind call <child> <tool> [JSON] [--json]`: call one tool and print its result; exit 1 if it is an error. */
export async function callCommand(
  child: string,
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
  const client = await SocketMcpClient.open(pathsFor(options), child);
  try {
    const result = (await client.request('tools/call', { name: tool, arguments: args })) as {
      content?: Array<{ type: string; text?: string }>;
      isError?: boolean;
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      for (const block of result.content ?? []) {
        process.stdout.write(block.type === 'text' ? `${block.text ?? ''}\n` : `${JSON.stringify(block)}\n`);
      }
    }
    return result.isError ? 1 : 0;
  } finally {
    client.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

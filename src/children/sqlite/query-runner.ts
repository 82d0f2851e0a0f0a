import { executeRequest } from './execute-request.js';
import type { QueryReply, QueryRequest, RunnerOptions } from './query-protocol.js';

/** Serves query requests from the parent process over IPC, one at a time, until the parent goes away. */
function serveRequests(options: RunnerOptions): void {
  process.on('message', (message: QueryRequest) => {
    let reply: QueryReply;
    try {
      reply = { id: message.id, ok: true, outcome: executeRequest(message, options) };
    } catch (error) {
      reply = { id: message.id, ok: false, message: describeError(error) };
    }
    process.send?.(reply);
  });
  process.on('disconnect', () => process.exit(0));
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'SqliteError' ? `Database error: ${error.message}` : error.message;
  return String(error);
}

serveRequests(JSON.parse(process.argv[2] ?? '{}') as RunnerOptions);

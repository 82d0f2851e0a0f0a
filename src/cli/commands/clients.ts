import { homedir } from 'node:os';
import {
  addToClient,
  buildServerEntry,
  type ClientChange,
  type ClientEnvironment,
  type ClientId,
  listClients,
  removeFromClient,
  type Scope,
} from '../../clients/index.js';
import type { GlobalOptions } from '../context.js';
import { formatTable } from '../output.js';

/** Options of `clients add` and `clients remove`. */
export interface ClientsChangeOptions extends GlobalOptions {
  endpoint: string;
  scope: Scope;
  dryRun?: boolean;
}

function environment(): ClientEnvironment {
  return { home: process.env.HOME || homedir(), cwd: process.cwd(), env: process.env };
}

/** `omnimind clients [list] [--json]`: the supported MCP clients, whether each is here, and its omnimind entries. */
export async function clientsListCommand(options: GlobalOptions & { json?: boolean }): Promise<number> {
  const reports = listClients(environment());
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ clients: reports }, null, 2)}\n`);
    return 0;
  }
  const rows = reports.flatMap((client) =>
    client.files.map((file, i) => [
      i === 0 ? client.id : '',
      i === 0 ? (client.found ? 'yes' : 'no') : '',
      file.scope,
      file.path,
      file.error ? 'unreadable (below)' : file.entries.map((e) => e.endpoint).join(', ') || '-',
    ]),
  );
  process.stdout.write(`${formatTable(['CLIENT', 'FOUND', 'SCOPE', 'FILE', 'OMNIMIND ENDPOINTS'], rows)}\n`);
  for (const file of reports.flatMap((c) => c.files)) if (file.error) process.stdout.write(`${file.error}\n`);
  if (!reports.some((c) => c.files.some((f) => f.entries.length > 0))) {
    process.stdout.write('No client uses omnimind yet: `omnimind clients add <client>` adds it to one.\n');
  }
  return 0;
}

function describe(change: ClientChange, dryRun: boolean): string {
  const where = `${change.client.name}'s ${change.file}`;
  switch (change.outcome) {
    case 'unchanged':
      return `${where} already has "${change.name}" as omnimind would write it; nothing changed.`;
    case 'absent':
      return `${where} has no "${change.name}" entry; nothing changed.`;
    default: {
      if (dryRun) {
        const verb = { added: 'add', updated: 'update', removed: 'remove' }[change.outcome];
        return `Would ${verb} "${change.name}" in ${where}; nothing was written (--dry-run).`;
      }
      const done = { added: 'Added', updated: 'Updated', removed: 'Removed' }[change.outcome];
      const backup = change.backup ? ` (the previous content is in ${change.backup})` : '';
      return `${done} "${change.name}" in ${where}${backup}; restart ${change.client.name} to apply it.`;
    }
  }
}

function report(change: ClientChange, dryRun: boolean): number {
  // With --dry-run the diff alone is on stdout, so it can be piped to `patch`; the sentence goes to stderr.
  if (dryRun) {
    process.stdout.write(change.diff);
    process.stderr.write(`${describe(change, true)}\n`);
  } else {
    process.stdout.write(`${describe(change, false)}\n`);
  }
  return 0;
}

/** `omnimind clients add <client>`: writes the entry for an endpoint into that client's own config file. */
export async function clientsAddCommand(client: ClientId, options: ClientsChangeOptions): Promise<number> {
  const env = environment();
  const entry = buildServerEntry(options.endpoint, { env: env.env });
  const change = addToClient(client, entry, { ...options, dryRun: options.dryRun ?? false, environment: env });
  const code = report(change, options.dryRun ?? false);
  if (change.outcome !== 'unchanged' && entry.env.OMNIMIND_RUNTIME_DIR !== undefined) {
    process.stderr.write(
      `The entry sets OMNIMIND_RUNTIME_DIR=${entry.env.OMNIMIND_RUNTIME_DIR}: from the minimal environment an MCP ` +
        'client passes, connect would look for the supervisor elsewhere.\n',
    );
  }
  return code;
}

/** `omnimind clients remove <client>`: removes the entry for an endpoint from that client's config file. */
export async function clientsRemoveCommand(client: ClientId, options: ClientsChangeOptions): Promise<number> {
  const change = removeFromClient(client, { ...options, dryRun: options.dryRun ?? false, environment: environment() });
  return report(change, options.dryRun ?? false);
}

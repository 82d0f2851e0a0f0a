import { METRICS_RIGHT, newToken } from '../../http/auth.js';
import { OmnimindError } from '../../protocol/index.js';
import { preparePrivateDirs } from '../../supervisor/private-dir.js';
import { usePrivateUmask } from '../../supervisor/private-umask.js';
import { StateDb, type TokenRecord } from '../../supervisor/state-db.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** Options of `omnimind token create`. */
export interface TokenCreateOptions extends GlobalOptions {
  endpoint?: string[];
  /** Adds the right to read `GET /metrics` and the dashboard. */
  metrics?: boolean;
  expires?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY_MS = 86_400_000;

/** A token's endpoints as people read them: the metrics right spelled `metrics`. */
function scopeOf(endpoints: readonly string[]): string {
  return endpoints.map((endpoint) => (endpoint === METRICS_RIGHT ? 'metrics' : endpoint)).join(', ');
}

/** Opens omnimind.db (creating the private state directory first): the supervisor reads the tokens from it. */
function openStateDb(options: GlobalOptions): StateDb {
  const paths = pathsFor(options);
  usePrivateUmask();
  preparePrivateDirs(paths);
  return new StateDb(paths.stateDb);
}

/** `omnimind token create <name>`: prints a new secret once, alone on stdout; only its hash is stored. */
export async function tokenCreateCommand(name: string, options: TokenCreateOptions): Promise<number> {
  if (!NAME.test(name)) {
    throw new OmnimindError('USAGE', `Invalid token name "${name}": use 1-64 letters, digits, ".", "_" or "-".`, {
      exitCode: 2,
    });
  }
  const bad = (options.endpoint ?? []).find((endpoint) => endpoint.startsWith(':'));
  if (bad !== undefined) {
    throw new OmnimindError('USAGE', `Invalid endpoint "${bad}": no endpoint name starts with ":" (use --metrics).`, {
      exitCode: 2,
    });
  }
  const endpoints = [...new Set(options.endpoint ?? [])];
  // `--metrics` alone stores the right and no endpoint (an empty list would mean every endpoint).
  if (options.metrics) endpoints.push(METRICS_RIGHT);
  const db = openStateDb(options);
  try {
    const { secret, hash } = newToken();
    const record: TokenRecord = {
      name,
      hash,
      endpoints,
      createdAt: new Date().toISOString(),
      expiresAt: options.expires === undefined ? null : new Date(Date.now() + options.expires * DAY_MS).toISOString(),
    };
    if (!db.addToken(record)) {
      throw new OmnimindError(
        'TOKEN_EXISTS',
        `A token named "${name}" exists. Revoke it first (omnimind token revoke ${name}).`,
      );
    }
    process.stdout.write(`${secret}\n`);
    const scope = record.endpoints.length === 0 ? 'every endpoint and the metrics' : scopeOf(record.endpoints);
    const expiry = record.expiresAt === null ? 'does not expire' : `expires ${record.expiresAt}`;
    process.stderr.write(
      `token "${name}" created for ${scope}; it ${expiry}. It is shown only now: send it as Authorization: Bearer <token>.\n`,
    );
    return 0;
  } finally {
    db.close();
  }
}

/** `omnimind token list [--json]`: names, scopes and expiry; never the secrets. */
export async function tokenListCommand(options: GlobalOptions & { json?: boolean }): Promise<number> {
  const db = openStateDb(options);
  try {
    const tokens = db.listTokens().map(({ hash: _, ...token }) => token);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
      return 0;
    }
    if (tokens.length === 0) process.stdout.write('no tokens (omnimind token create <name>)\n');
    for (const token of tokens) {
      const scope = token.endpoints.length === 0 ? 'all endpoints' : scopeOf(token.endpoints).replaceAll(', ', ',');
      process.stdout.write(
        `${token.name}\t${scope}\tcreated ${token.createdAt}\texpires ${token.expiresAt ?? 'never'}\n`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

/** `omnimind token revoke <name>`: refused from the next request on, without a restart. */
export async function tokenRevokeCommand(name: string, options: GlobalOptions): Promise<number> {
  const db = openStateDb(options);
  try {
    if (!db.revokeToken(name)) {
      throw new OmnimindError('UNKNOWN_TOKEN', `No token named "${name}" (omnimind token list shows them).`);
    }
    process.stdout.write(`token "${name}" revoked\n`);
    return 0;
  } finally {
    db.close();
  }
}

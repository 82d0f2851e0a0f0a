import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newToken, tokenAuthenticator } from '../../../src/http/auth.js';
import { StateDb } from '../../../src/supervisor/state-db.js';

describe('tokenAuthenticator', () => {
  const dirs: string[] = [];
  const opened: StateDb[] = [];
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A state db file, and a second connection to it as `omnimind token …` would open. */
  function dbs(): { supervisor: StateDb; cli: StateDb } {
    const dir = mkdtempSync(join(tmpdir(), 'om-auth-'));
    dirs.push(dir);
    const file = join(dir, 'omnimind.db');
    const [supervisor, cli] = [new StateDb(file), new StateDb(file)];
    opened.push(supervisor, cli);
    return { supervisor, cli };
  }

  it('looks a token up once while the db is unchanged, and refuses it at once when another process revokes it', async () => {
    const { supervisor, cli } = dbs();
    const { secret, hash } = newToken();
    cli.addToken({ name: 'ci', hash, endpoints: ['fx'], createdAt: new Date().toISOString(), expiresAt: null });
    let lookups = 0;
    const authenticate = tokenAuthenticator(
      (h) => {
        lookups++;
        return supervisor.findToken(h);
      },
      () => supervisor.dataVersion(),
    );
    for (let i = 0; i < 5; i++) {
      expect(await authenticate(`Bearer ${secret}`)).toEqual({ id: 'token:ci', endpoints: ['fx'] });
    }
    expect(lookups).toBe(1);
    expect(cli.revokeToken('ci')).toBe(true);
    expect(await authenticate(`Bearer ${secret}`)).toBeUndefined();
    expect(await authenticate(`Bearer ${newToken().secret}`)).toBeUndefined();
  });

  it('refuses a remembered token once its expiry passes', async () => {
    const { supervisor } = dbs();
    const { secret, hash } = newToken();
    const expiresAt = new Date(Date.now() + 300).toISOString();
    supervisor.addToken({ name: 'brief', hash, endpoints: [], createdAt: new Date().toISOString(), expiresAt });
    const authenticate = tokenAuthenticator(
      (h) => supervisor.findToken(h),
      () => supervisor.dataVersion(),
    );
    expect(await authenticate(`Bearer ${secret}`)).toEqual({ id: 'token:brief', endpoints: undefined });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await authenticate(`Bearer ${secret}`)).toBeUndefined();
  });
});

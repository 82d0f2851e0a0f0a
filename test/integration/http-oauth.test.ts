import { createServer, type Server } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, waitFor } from '../helpers/harness.js';
import { freePort, httpClient, initializeBody, postHeaders } from '../helpers/http.js';

describe('http.auth = "oauth": a resource server for JWT access tokens', () => {
  let h: Harness;
  let base: string;
  let issuer: string;
  let idp: Server;
  let jwksFetches = 0;
  const keys: Array<{ kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK }> =
    [];
  const clients: Client[] = [];

  async function addKey(kid: string) {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    keys.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
  }

  function sign(
    claims: Record<string, unknown>,
    options: { kid?: string; expiresIn?: string | number; issuer?: string } = {},
  ) {
    const key = keys.find((k) => k.kid === (options.kid ?? 'one'))!;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(options.issuer ?? issuer)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(key.privateKey);
  }

  const status = async (path: string, token: string) =>
    (await fetch(`${base}${path}`, { method: 'POST', headers: postHeaders(token), body: initializeBody() })).status;

  beforeAll(async () => {
    await addKey('one');
    const idpPort = await freePort();
    issuer = `http://127.0.0.1:${idpPort}`;
    idp = createServer((request, response) => {
      if (request.url === '/.well-known/oauth-authorization-server') {
        return void response
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      }
      if (request.url === '/jwks') {
        jwksFetches++;
        return void response
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', resolve));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture(), other: fixture() },
      http: {
        listen: `127.0.0.1:${port}`,
        auth: 'oauth',
        oauth: { issuer, scopes: { 'mcp:fx': ['fx'], 'mcp:all': ['fx', 'other', 'omnimind'] } },
      },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await h?.cleanup();
    await new Promise((resolve) => idp?.close(resolve));
  });

  it('serves a client whose token names this resource, within its scopes', async () => {
    const token = await sign({ sub: 'alice', aud: `${base}/mcp`, scope: 'mcp:fx' });
    const { client } = await httpClient(`${base}/mcp/fx`, token);
    clients.push(client);
    expect((await client.callTool({ name: 'echo', arguments: { text: 'jwt' } })).content).toEqual([
      { type: 'text', text: 'jwt' },
    ]);
    expect(await status('/mcp/other', token)).toBe(403);
    const wide = await sign({ sub: 'bob', aud: `${base}/mcp`, scope: 'openid mcp:all' });
    expect(await status('/mcp/other', wide)).toBe(200);
    const byStatus = JSON.parse((await h.cli(['status', '--json'])).stdout);
    expect(byStatus.http.byCredential['oauth:alice']).toBe(1);
  });

  it('refuses a wrong audience or issuer, an expired token and alg "none"', async () => {
    const audience = `${base}/mcp`;
    expect(
      await status('/mcp/fx', await sign({ sub: 'a', aud: 'https://elsewhere.example/mcp', scope: 'mcp:fx' })),
    ).toBe(401);
    expect(
      await status(
        '/mcp/fx',
        await sign({ sub: 'a', aud: audience, scope: 'mcp:fx' }, { issuer: 'https://evil.example' }),
      ),
    ).toBe(401);
    const expired = await sign(
      { sub: 'a', aud: audience, scope: 'mcp:fx' },
      { expiresIn: Math.floor(Date.now() / 1000) - 3600 },
    );
    expect(await status('/mcp/fx', expired)).toBe(401);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'a', aud: audience, iss: issuer, scope: 'mcp:fx', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const refused = await fetch(`${base}/mcp/fx`, {
      method: 'POST',
      headers: postHeaders(none),
      body: initializeBody(),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('resource_metadata=');
    const metadata = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata).toMatchObject({ resource: audience, authorization_servers: [issuer] });
  });

  it('fetches the keys again for an unknown kid (key rotation)', async () => {
    const before = jwksFetches;
    await addKey('two');
    const token = await sign({ sub: 'carol', aud: `${base}/mcp`, scope: 'mcp:fx' }, { kid: 'two' });
    // Fetched again as soon as the cooldown between two fetches (5 s) allows.
    await waitFor(async () => (await status('/mcp/fx', token)) === 200, 30_000);
    expect(jwksFetches).toBeGreaterThan(before);
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS } from '../helpers/harness.js';
import { freePort, initializeBody } from '../helpers/http.js';

describe('http.tls: the HTTP front over HTTPS', () => {
  let h: Harness;
  let port: number;
  let cert: string;

  beforeAll(async () => {
    port = await freePort();
    h = createHarness();
    cert = join(h.dir, 'cert.pem');
    const key = join(h.dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    h.writeConfig({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}`, auth: 'none', tls: { cert, key } },
    });
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('answers initialize over TLS with the configured certificate', async () => {
    const body = initializeBody();
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp/fx',
          method: 'POST',
          ca: readFileSync(cert),
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).result.serverInfo.name).toBe('fixture');
    const status = JSON.parse((await h.cli(['status', '--json'])).stdout);
    expect(status.http.url).toBe(`https://127.0.0.1:${port}/mcp`);
  });
});

import { mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT } from '../helpers/harness.js';
import { freePort, httpClient } from '../helpers/http.js';

const CHROMIUM = '/usr/bin/chromium';

/** An element as the functions run in the page use it (the project's typings leave the DOM out). */
interface PageNode {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): PageNode | null;
}
declare const document: {
  getElementById(id: string): PageNode | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
};
declare const sessionStorage: { getItem(key: string): string | null };

describe('the dashboard in headless Chromium', () => {
  let h: Harness;
  let base: string;
  let admin: string;
  let browser: Browser;
  let page: Page;
  let client: Client | undefined;
  let evil: Server | undefined;

  /** A child's row as `status --json` reports it. */
  async function statusOf(name: string): Promise<{ state: string; pid: number | null; restarts: number }> {
    const status = await h.cli(['status', '--json']);
    return JSON.parse(status.stdout).children.find((c: { name: string }) => c.name === name);
  }

  /** The text of a cell of a child's row on the page. */
  const cell = (child: string, column: string) =>
    page.$eval(`#children tr[data-child="${child}"] td.${column}`, (td) => td.textContent ?? '');

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture(), other: fixture() },
      http: { listen: `127.0.0.1:${port}` },
    });
    admin = (await h.cli(['token', 'create', 'admin'])).stdout.trim();
    const started = await h.cli(['start'], { timeoutMs: 120_000 });
    expect(started.code, started.stderr).toBe(0);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1440, height: 900 });
  }, 150_000);

  afterAll(async () => {
    await client?.close().catch(() => {});
    await browser?.close();
    await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)));
    await h?.cleanup();
  });

  it('asks for a token, then shows every child with its state and pid', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.$('#children tr[data-child]')).toBeNull();
    await page.type('#token', 'omm_wrong');
    await page.click('#login button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('login-error')?.textContent === 'The token was refused.');
    await page.type('#token', admin);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('#children tr[data-child="other"]', { timeout: 20_000 });
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#children td.state')].map((td) => td.textContent).join() === 'RUNNING,RUNNING',
      { timeout: 20_000 },
    );
    expect(Number(await cell('fx', 'pid'))).toBe((await statusOf('fx')).pid);
    expect(await page.$$eval('#log-child option', (options) => options.map((o) => o.textContent))).toEqual([
      'fx',
      'other',
    ]);
    expect(await page.evaluate(() => sessionStorage.getItem('omnimind.token'))).toBe(admin);
  });

  it('counts the calls an SDK client makes, and draws their rate over time', async () => {
    const before = Number(await cell('fx', 'requests'));
    ({ client } = await httpClient(`${base}/mcp/fx`, admin));
    for (let i = 0; i < 20; i++) await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    await page.waitForFunction(
      (floor) => Number(document.querySelector('#children tr[data-child="fx"] td.requests')?.textContent) >= floor,
      { timeout: 20_000 },
      before + 20,
    );
    // The history gets a point every 5 s: calls paced by the child (50 ms each) until the rate chart has three.
    const points = () =>
      page.$eval('tr[data-child="fx"] td.rate svg', (svg) => Number((svg as unknown as PageNode).dataset.points));
    let calls = 0;
    while ((await points()) < 3) {
      await client.callTool({ name: 'slow', arguments: { ms: 50, text: `paced ${calls}` } });
      calls++;
    }
    await page.waitForFunction(
      (floor) => Number(document.querySelector('#children tr[data-child="fx"] td.requests')?.textContent) >= floor,
      { timeout: 20_000 },
      before + 20 + calls,
    );
    expect(await cell('fx', 'clients')).toBe('1');
    // The README's screenshot: written to docs/ only when asked (OMNIMIND_SCREENSHOT=1), so a run leaves the tree as
    // it found it; otherwise to the harness's directory, which proves the page renders.
    const shot =
      process.env.OMNIMIND_SCREENSHOT === '1' ? join(ROOT, 'docs', 'dashboard.png') : join(h.dir, 'dashboard.png');
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  }, 90_000);

  it('restarts a child from its button: a new pid', async () => {
    const before = await statusOf('fx');
    expect(before.state).toBe('RUNNING');
    await page.click('#children tr[data-child="fx"] button[data-action="restart"]');
    await page.waitForFunction(
      (pid) => {
        const row = document.querySelector('#children tr[data-child="fx"]');
        const text = (column: string) => row?.querySelector(`td.${column}`)?.textContent;
        return text('state') === 'RUNNING' && text('pid') !== String(pid) && text('pid') !== '–';
      },
      { timeout: 60_000 },
      before.pid,
    );
    const after = await statusOf('fx');
    expect(after.state).toBe('RUNNING');
    expect(after.pid).not.toBe(before.pid);
    expect(Number(await cell('fx', 'pid'))).toBe(after.pid);
  }, 90_000);

  it('refuses a cross-site POST and a POST without the CSRF token (403), and nothing changes', async () => {
    const before = await statusOf('fx');
    const csrf = await page.$eval('meta[name="csrf-token"]', (meta) => meta.getAttribute('content') ?? '');
    expect(csrf).not.toBe('');
    // Another origin's page that knows the token and the CSRF token, and tries both kinds of request.
    const evilPort = await freePort();
    evil = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise<void>((resolve) => evil?.listen(evilPort, '127.0.0.1', resolve));
    const other = await browser.newPage();
    const statuses: number[] = [];
    other.on('response', (response) => {
      if (response.url() === `${base}/api/children/fx/stop` && response.request().method() === 'POST') {
        statuses.push(response.status());
      }
    });
    await other.goto(`http://127.0.0.1:${evilPort}/`);
    const outcome = await other.evaluate(
      async (target, token, header) => {
        const simple = await fetch(`${target}/api/children/fx/stop`, { method: 'POST', mode: 'no-cors', body: 'x' })
          .then((r) => r.type)
          .catch((e) => String(e));
        const cors = await fetch(`${target}/api/children/fx/stop`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'X-Omnimind-CSRF': header },
        })
          .then((r) => String(r.status))
          .catch(() => 'blocked');
        return { simple, cors };
      },
      base,
      admin,
      csrf,
    );
    await other.close();
    expect(outcome).toEqual({ simple: 'opaque', cors: 'blocked' });
    expect(statuses).toEqual([403]);

    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/children/fx/stop`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, ...headers },
      });
    const plain = await post({});
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('CSRF');
    const forged = await post({ 'X-Omnimind-CSRF': `${Date.now()}.AAAA` });
    expect(forged.status).toBe(403);
    const crossSite = await post({ 'X-Omnimind-CSRF': csrf, 'Sec-Fetch-Site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { code: string } }).error.code).toBe('CROSS_SITE');
    expect(
      (await fetch(`${base}/api/children/fx/stop`, { headers: { Authorization: `Bearer ${admin}` } })).status,
    ).toBe(405);
    const unauthenticated = await fetch(`${base}/api/children/fx/stop`, {
      method: 'POST',
      headers: { 'X-Omnimind-CSRF': csrf },
    });
    expect(unauthenticated.status).toBe(401);

    const after = await statusOf('fx');
    expect(after).toMatchObject({ state: 'RUNNING', pid: before.pid, restarts: before.restarts });
  }, 60_000);
});

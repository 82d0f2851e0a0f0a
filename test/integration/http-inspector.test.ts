import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, fixture, type Harness, NO_BUILTINS, ROOT } from '../helpers/harness.js';
import { freePort } from '../helpers/http.js';

/** The MCP Inspector's command-line client (what `@modelcontextprotocol/inspector --cli` runs). */
const INSPECTOR_CLI = join(ROOT, 'node_modules/@modelcontextprotocol/inspector-cli/build/index.js');

/** Runs the Inspector's CLI and parses the JSON it prints. */
function inspect(args: string[]): Promise<{ code: number; json: unknown; stderr: string }> {
  return new Promise((resolve) => {
    // Run from its own directory: it looks for its package.json relative to the working directory.
    const child = spawn(process.execPath, [INSPECTOR_CLI, ...args], {
      cwd: dirname(INSPECTOR_CLI),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, json, stderr: stderr + stdout });
    });
  });
}

describe('the MCP Inspector CLI, a client nobody here wrote, over /mcp', () => {
  let h: Harness;
  let url: string;
  let token: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    h = createHarness({
      children: NO_BUILTINS,
      mcpServers: { fx: fixture() },
      http: { listen: `127.0.0.1:${port}` },
    });
    token = (await h.cli(['token', 'create', 'inspector'])).stdout.trim();
    const started = await h.cli(['start']);
    expect(started.code, started.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await h?.cleanup();
  });

  it('lists and calls the profile’s tools with a bearer token', async () => {
    const auth = ['--header', `Authorization: Bearer ${token}`];
    const listed = await inspect([url, '--transport', 'http', ...auth, '--method', 'tools/list']);
    expect(listed.code, listed.stderr).toBe(0);
    const names = (listed.json as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(names).toContain('fx__echo');
    const called = await inspect([
      url,
      '--transport',
      'http',
      ...auth,
      '--method',
      'tools/call',
      '--tool-name',
      'fx__echo',
      '--tool-arg',
      'text=from the inspector',
    ]);
    expect(called.code, called.stderr).toBe(0);
    expect(JSON.stringify(called.json)).toContain('from the inspector');
  });

  it('is refused without the token', async () => {
    const refused = await inspect([url, '--transport', 'http', '--method', 'tools/list']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/401|Unauthorized/);
  });
});

import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildServerEntry,
  connectedEndpoint,
  entryEnvironment,
  entryName,
  MINIMAL_ENV_VARS,
} from '../../../src/clients/index.js';

const CLI = realpathSync(join(import.meta.dirname, '..', '..', '..', 'bin', 'omnimind.js'));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'om-entry-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the entry a client runs', () => {
  it('is named omnimind for the default endpoint and omnimind-<endpoint> otherwise', () => {
    expect(entryName('omnimind')).toBe('omnimind');
    expect(entryName('memory')).toBe('omnimind-memory');
  });

  it("runs this installation's bin/omnimind.js with the absolute node binary, from any directory", () => {
    const entry = buildServerEntry('memory', { env: { HOME: dir, PATH: '/usr/bin:/bin' } });
    expect(entry).toEqual({ command: process.execPath, args: [CLI, 'connect', 'memory'], env: {} });
  });

  it('runs the global omnimind when the one on PATH is this installation, by the path PATH gives', () => {
    const bin = join(dir, 'global', 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(CLI, join(bin, 'omnimind'));
    const other = join(dir, 'other');
    mkdirSync(other);
    symlinkSync(process.execPath, join(other, 'omnimind'));
    const env = { HOME: dir, PATH: ['relative/bin', other, bin].join(':') };
    expect(buildServerEntry('omnimind', { env })).toEqual({
      command: join(bin, 'omnimind'),
      args: ['connect', 'omnimind'],
      env: {},
    });
  });

  it('passes the only variables the MCP SDK passes a stdio server', () => {
    expect([...MINIMAL_ENV_VARS]).toEqual(DEFAULT_INHERITED_ENV_VARS);
  });

  it('carries OMNIMIND_RUNTIME_DIR, absolute, only when the minimal environment would find another runtime directory', () => {
    const home = join(dir, 'home');
    expect(entryEnvironment({ HOME: home, PATH: '/bin', USER: 'me' })).toEqual({});
    expect(entryEnvironment({ HOME: home, XDG_STATE_HOME: join(home, '.local', 'state') })).toEqual({});
    const xdg = join(dir, 'xdg');
    expect(entryEnvironment({ HOME: home, XDG_RUNTIME_DIR: xdg })).toEqual({
      OMNIMIND_RUNTIME_DIR: join(xdg, 'omnimind'),
    });
    expect(entryEnvironment({ HOME: home, OMNIMIND_RUNTIME_DIR: 'relative/run' })).toEqual({
      OMNIMIND_RUNTIME_DIR: join(process.cwd(), 'relative', 'run'),
    });
  });

  it('recognises an entry that runs omnimind connect, however it is spelled, and the endpoint it reaches', () => {
    expect(connectedEndpoint({ command: '/usr/bin/node', args: [CLI, 'connect', 'git'] })).toBe('git');
    expect(connectedEndpoint({ command: '/usr/local/bin/omnimind', args: ['connect'] })).toBe('omnimind');
    expect(connectedEndpoint({ command: 'npx', args: ['omnimind', 'connect', 'memory'] })).toBe('memory');
    expect(connectedEndpoint({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] })).toBeUndefined();
    expect(connectedEndpoint({ command: 'ssh', args: ['host', 'connect'] })).toBeUndefined();
    expect(connectedEndpoint({ url: 'https://example.com/mcp' })).toBeUndefined();
  });
});

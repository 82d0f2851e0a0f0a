import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PYTHONS } from '../../../../src/children/python/options.js';
import { SANDBOX_CACHE_FILE, setUpSandboxRemembered } from '../../../../src/children/python/sandbox-cache.js';
import { firstRunUid } from '../../../../src/children/python/sandbox-probe.js';

const SLOTS = 2;
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-sandbox-cache-'));
  file = join(dir, SANDBOX_CACHE_FILE);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Marks the remembered interpreter's version, so that a setup read back from the file can be told apart. */
function markRemembered(): void {
  const remembered = JSON.parse(readFileSync(file, 'utf8'));
  remembered.setup.probe.python.version = 'remembered';
  writeFileSync(file, JSON.stringify(remembered));
}

describe('setUpSandboxRemembered', () => {
  it('probes on the first start and remembers a working setup', async () => {
    const setup = await setUpSandboxRemembered(file, DEFAULT_PYTHONS, 256, SLOTS);
    expect(setup.problem).toBeNull();
    expect(setup.plan?.executable).toBe(setup.probe.python?.executable);
    expect(JSON.parse(readFileSync(file, 'utf8')).setup.probe.python).toEqual(setup.probe.python);
  });

  it('reuses the remembered setup on the next start, with run uids of its own pid', async () => {
    const first = await setUpSandboxRemembered(file, DEFAULT_PYTHONS, 256, SLOTS);
    markRemembered();
    const next = await setUpSandboxRemembered(file, DEFAULT_PYTHONS, 256, SLOTS);
    expect(next.probe.python?.version).toBe('remembered');
    expect(next.probe.unshareArgs).toEqual(first.probe.unshareArgs);
    expect(next.problem).toBeNull();
    expect(next.probe.firstRunUid).toBe(first.probe.firstRunUid === null ? null : firstRunUid(process.pid, SLOTS));
  });

  it('probes again when the options differ from the remembered ones', async () => {
    const first = await setUpSandboxRemembered(file, DEFAULT_PYTHONS, 256, SLOTS);
    markRemembered();
    const other = await setUpSandboxRemembered(file, DEFAULT_PYTHONS, 512, SLOTS);
    expect(other.probe.python?.version).toBe(first.probe.python?.version);
  });

  it('never remembers a setup that does not work', async () => {
    const setup = await setUpSandboxRemembered(file, [join(dir, 'no-such-python')], 256, SLOTS);
    expect(setup.problem).toContain('no-such-python');
    expect(existsSync(file)).toBe(false);
  });
});

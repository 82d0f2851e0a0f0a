import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { firstRunUid } from './sandbox-probe.js';
import { clearRunUids, planFor, type SandboxSetup, setUpSandbox } from './sandbox-setup.js';

/** The file in the child's data directory that keeps the last working setup. */
export const SANDBOX_CACHE_FILE = 'python-sandbox.json';

/** A working setup as remembered, with what must be unchanged for it to hold. */
interface Remembered {
  key: string;
  /** The interpreter's modification time then: a reinstalled Python is probed again. */
  pythonMtimeMs: number;
  setup: Pick<SandboxSetup, 'probe' | 'skipped'>;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** What the probe's answer depends on: this boot of the machine, the user, PATH and the options. */
function cacheKey(candidates: readonly string[], memoryMb: number, slots: number): string {
  const uid = process.getuid?.() ?? -1;
  return JSON.stringify({ boot: bootId(), uid, path: process.env.PATH ?? '', candidates, memoryMb, slots });
}

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function recall(file: string, key: string): Remembered | null {
  try {
    const remembered = JSON.parse(readFileSync(file, 'utf8')) as Remembered;
    const python = remembered.setup.probe.python;
    if (remembered.key !== key || python === null) return null;
    return mtimeMs(python.executable) === remembered.pythonMtimeMs ? remembered : null;
  } catch {
    return null;
  }
}

function remember(file: string, key: string, setup: SandboxSetup): void {
  const python = setup.probe.python;
  const pythonMtimeMs = python ? mtimeMs(python.executable) : null;
  if (setup.problem !== null || pythonMtimeMs === null) return;
  const value: Remembered = { key, pythonMtimeMs, setup: { probe: setup.probe, skipped: setup.skipped } };
  try {
    // A file of this process's own, renamed into place: two children starting at once never mix their writes.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(value), { mode: 0o600 });
    renameSync(temporary, file);
  } catch {
    // Not remembered: the next start probes again.
  }
}

/**
 * `setUpSandbox`, remembered in `file` until the machine reboots: the probe starts Python several times (most of
 * this child's start-up), and a restart after a crash need not find again what the last start found. Only a
 * working setup is remembered; a new user, PATH, interpreter or option probes again. The run uids derive from
 * this process's pid as always, and are cleared before use.
 */
export async function setUpSandboxRemembered(
  file: string,
  candidates: readonly string[],
  memoryMb: number,
  slots: number,
): Promise<SandboxSetup> {
  const key = cacheKey(candidates, memoryMb, slots);
  const remembered = recall(file, key);
  if (remembered) {
    const { probe, skipped } = remembered.setup;
    const own = { ...probe, firstRunUid: probe.firstRunUid === null ? null : firstRunUid(process.pid, slots) };
    const plan = planFor(own);
    if (plan && (await clearRunUids(plan, slots)) === null) return { probe: own, plan, problem: null, skipped };
  }
  const setup = await setUpSandbox(candidates, memoryMb, slots);
  remember(file, key, setup);
  return setup;
}

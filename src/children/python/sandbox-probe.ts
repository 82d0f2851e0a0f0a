import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long each probe at startup may take (ms): a cold interpreter start on a busy machine, with margin. */
const PROBE_TIMEOUT_MS = 15_000;

/**
 * Start of the uids reserved for runs when omnimind runs as root (0x70000000): above the ranges that systemd and
 * container tools hand out (up to 0x6FFFFFFF) and below the ones they reserve (from 0x7FFE0000), so no account or
 * file on the machine has one of these uids.
 */
export const RUN_UID_BASE = 0x7000_0000;

/** Highest process id Linux hands out (2^22): bounds the uid block of any child. */
const PID_LIMIT = 4_194_304;

/**
 * The first uid of the block one python child gives its runs, one per run slot. Derived from the child's process
 * id, so that two live children never share a uid, with no claim to make or release.
 */
export function firstRunUid(pid: number, slots: number): number {
  if (!Number.isInteger(slots) || slots < 1 || slots > 16) {
    throw new TypeError(`Expected \`slots\` to be an integer from 1 to 16, got \`${slots}\``);
  }
  return RUN_UID_BASE + (pid % PID_LIMIT) * slots;
}

/** What this machine allows, found once at startup by trying it. */
export interface SandboxProbe {
  /** The real interpreter (not a shim) and its version, or null when it cannot be run. */
  python: { executable: string; version: string } | null;
  /** Why the interpreter could not be run. */
  pythonError: string | null;
  /** `unshare` arguments that put a run in its own network (and, if possible, PID) namespace; null when none work. */
  unshareArgs: string[] | null;
  /** Whether runs get their own PID namespace, so that killing the run kills every process it started. */
  pidNamespace: boolean;
  /** Whether runs get their own mount namespace: their directory as /tmp, a fresh /proc, everything else read-only. */
  privateFilesystem: boolean;
  /** Whether runs get their own user namespace (the process limit then counts only the run's own processes). */
  userNamespace: boolean;
  /** The uid of the first run slot (slot i runs as this + i), when omnimind runs as root; null otherwise. */
  firstRunUid: number | null;
}

const DESCRIBE_PYTHON = 'import platform, sys; print(sys.executable); print(platform.python_version())';

// Exits 0 only when the process sees no network interface but loopback, i.e. it sits in an empty network namespace.
const CHECK_ISOLATED = "import socket, sys; sys.exit(0 if [n for _, n in socket.if_nameindex()] == ['lo'] else 3)";

async function describePython(python: string): Promise<{ executable: string; version: string }> {
  const { stdout } = await run(python, ['-I', '-c', DESCRIBE_PYTHON], { timeout: PROBE_TIMEOUT_MS });
  const [executable, version] = stdout.trim().split('\n');
  if (!executable || !version) throw new Error(`unexpected answer from ${python}: ${JSON.stringify(stdout)}`);
  return { executable, version };
}

async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: PROBE_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the interpreter and the strongest isolation that works here, by running each candidate once. `slots` is how
 * many runs may go at once: each gets a uid of its own when omnimind runs as root.
 */
export async function probeSandbox(python: string, slots: number): Promise<SandboxProbe> {
  const root = process.getuid?.() === 0;
  const base = {
    unshareArgs: null,
    pidNamespace: false,
    privateFilesystem: false,
    userNamespace: false,
    firstRunUid: root ? firstRunUid(process.pid, slots) : null,
  };
  let found: { executable: string; version: string };
  try {
    found = await describePython(python);
  } catch (error) {
    const pythonError = `cannot run \`${python}\`: ${(error as Error).message.split('\n')[0]}`;
    return { ...base, python: null, pythonError };
  }
  // Root keeps its own user namespace so that it can switch to the run's uid afterwards.
  const namespaces = root ? ['-n'] : ['-r', '-n'];
  const ownPids = ['--pid', '--fork', '--kill-child'];
  const candidates = [
    [...namespaces, '--ipc', ...ownPids, '--mount-proc'],
    [...namespaces, ...ownPids],
    [...namespaces],
  ];
  for (const args of candidates) {
    if (await succeeds('unshare', [...args, '--', found.executable, '-I', '-c', CHECK_ISOLATED])) {
      return {
        ...base,
        python: found,
        pythonError: null,
        unshareArgs: args,
        pidNamespace: args.includes('--pid'),
        privateFilesystem: args.includes('--mount-proc'),
        userNamespace: args.includes('-r'),
      };
    }
  }
  return { ...base, python: found, pythonError: null };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long each probe at startup may take (ms): a cold interpreter start on a busy machine, with margin. */
const PROBE_TIMEOUT_MS = 15_000;

/** The uid code runs as when omnimind runs as root: `nobody`, which owns nothing worth protecting. */
export const UNPRIVILEGED_UID = 65_534;

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
  /** Whether runs get their own user namespace (the process limit then counts only the run's own processes). */
  userNamespace: boolean;
  /** The uid code runs as, when omnimind runs as root; null when it runs as omnimind's own user. */
  runAsUid: number | null;
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

/** Finds the interpreter and the strongest isolation that works here, by running each candidate once. */
export async function probeSandbox(python: string): Promise<SandboxProbe> {
  const root = process.getuid?.() === 0;
  const runAsUid = root ? UNPRIVILEGED_UID : null;
  let found: { executable: string; version: string };
  try {
    found = await describePython(python);
  } catch (error) {
    const pythonError = `cannot run \`${python}\`: ${(error as Error).message.split('\n')[0]}`;
    return { python: null, pythonError, unshareArgs: null, pidNamespace: false, userNamespace: false, runAsUid };
  }
  // Root keeps its own user namespace so that it can switch to the unprivileged uid afterwards.
  const namespaces = root ? ['-n'] : ['-r', '-n'];
  const candidates = [[...namespaces, '--pid', '--fork', '--kill-child'], [...namespaces]];
  for (const args of candidates) {
    if (await succeeds('unshare', [...args, '--', found.executable, '-I', '-c', CHECK_ISOLATED])) {
      return {
        python: found,
        pythonError: null,
        unshareArgs: args,
        pidNamespace: args.includes('--pid'),
        userNamespace: args.includes('-r'),
        runAsUid,
      };
    }
  }
  return { python: found, pythonError: null, unshareArgs: null, pidNamespace: false, userNamespace: false, runAsUid };
}

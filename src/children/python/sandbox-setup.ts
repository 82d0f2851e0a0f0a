import { endProcessesOf } from './end-processes.js';
import { runPython, type SandboxPlan } from './run-python.js';
import { probeSandbox, type SandboxProbe } from './sandbox-probe.js';

/** How long the startup test script may take (ms): a cold interpreter on a busy machine, with margin. */
const CHECK_TIMEOUT_MS = 15_000;

/** The sandbox chosen at startup, or why none works. */
export interface SandboxSetup {
  probe: SandboxProbe;
  plan: SandboxPlan | null;
  problem: string | null;
  /** Interpreters tried before the chosen one, each with why the sandbox could not use it. */
  skipped: string[];
}

/** The plan that runs code with what the probe found. */
export function planFor(probe: SandboxProbe): SandboxPlan | null {
  if (probe.python === null) return null;
  return {
    executable: probe.python.executable,
    unshareArgs: probe.unshareArgs,
    privateFilesystem: probe.privateFilesystem,
    firstRunUid: probe.firstRunUid,
    countOwnProcesses: probe.firstRunUid === null && !probe.userNamespace,
  };
}

/**
 * Ends whatever still runs under the run uids (left by an earlier child that had this pid and was killed), so that
 * every run starts with no other process of its uid; each run then ends its own. Returns why it could not.
 */
export async function clearRunUids(plan: SandboxPlan, slots: number): Promise<string | null> {
  if (plan.firstRunUid === null) return null;
  try {
    for (let slot = 0; slot < slots; slot++) await endProcessesOf(plan.executable, plan.firstRunUid + slot);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs a trivial script through the whole sandbox, so that one that cannot work is reported up front. */
async function checkPlan(plan: SandboxPlan, memoryMb: number): Promise<string | null> {
  let result: Awaited<ReturnType<typeof runPython>>;
  try {
    result = await runPython(plan, { code: 'print(6 * 7)', timeoutMs: CHECK_TIMEOUT_MS, memoryMb });
  } catch (error) {
    return `the sandbox could not run ${plan.executable}: ${(error as Error).message}`;
  }
  if (result.exitCode === 0 && result.stdout.trim() === '42') return null;
  const how = result.exitCode === null ? `signal ${result.signal}` : `exit ${result.exitCode}`;
  return `the sandbox could not run ${plan.executable} (${how}): ${result.stderr.trim()}`;
}

/**
 * Tries each interpreter in turn and keeps the first one the full sandbox runs; otherwise reports every failure.
 * `slots` is how many runs may go at once.
 */
export async function setUpSandbox(
  candidates: readonly string[],
  memoryMb: number,
  slots: number,
): Promise<SandboxSetup> {
  const problems: string[] = [];
  let last: SandboxSetup | null = null;
  for (const candidate of candidates) {
    const probe = await probeSandbox(candidate, slots);
    const plan = planFor(probe);
    const problem =
      probe.pythonError ??
      (plan ? ((await clearRunUids(plan, slots)) ?? (await checkPlan(plan, memoryMb))) : 'no interpreter');
    if (problem === null) return { probe, plan, problem: null, skipped: problems };
    problems.push(`${candidate}: ${problem}`);
    last = { probe, plan, problem, skipped: [] };
  }
  if (last === null) throw new TypeError('Expected at least one interpreter to try');
  return { ...last, problem: problems.join('; ') };
}

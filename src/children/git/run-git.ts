import { execa } from 'execa';
import { GIT_KILL_GRACE_MS, GIT_TIMEOUT_MS, MAX_GIT_OUTPUT } from './limits.js';

/**
 * Options placed before every git subcommand. Hooks are off (a hook written through another tool must not run;
 * the reference server's commits skip hooks too), fsmonitor is off (it runs a configured command), colours are off
 * so output is plain text whatever the user's config says.
 */
const GLOBAL_ARGS = [
  '--no-pager',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'color.ui=false',
];

/**
 * The environment git runs with: the caller's, minus every `GIT_*` variable (which could point git at another
 * repository, config or program), with prompts, pagers and editors disabled, optional index locks off (so a status
 * never blocks the user's own git) and messages in the C locale.
 */
export function scrubGitEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.toUpperCase().startsWith('GIT_')) clean[key] = value;
  }
  return {
    ...clean,
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_EDITOR: ':',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
    LANGUAGE: 'C',
  };
}

/** Options of one git run. */
export interface RunGitOptions {
  /** The repository's working tree (already checked to be allowed). */
  cwd: string;
  /** Aborts the run (the MCP request was cancelled). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Characters of stdout kept; past it git is stopped and the output marked truncated. */
  maxOutput?: number;
  /** The environment to scrub (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** What a git run printed, and whether it was cut at the output cap. */
export interface GitOutput {
  stdout: string;
  truncated: boolean;
}

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already exited.
  }
}

/**
 * Runs `git <args>` without a shell, in a scrubbed environment and its own process group, with a timeout, a kill
 * escalation (SIGTERM, then SIGKILL, to the whole group, so a helper git started cannot hold the pipes open) and an
 * output cap. Throws an Error whose message is git's own complaint when git fails, times out or is cancelled.
 */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<GitOutput> {
  for (const arg of args) {
    if (arg.includes('\0')) throw new Error('Invalid argument: it contains a NUL byte');
  }
  const timeoutMs = options.timeoutMs ?? GIT_TIMEOUT_MS;
  const maxOutput = options.maxOutput ?? MAX_GIT_OUTPUT;
  const command = `git ${args[0] ?? ''}`.trim();
  if (options.signal?.aborted) throw new Error(`${command} was cancelled`);
  const subprocess = execa('git', [...GLOBAL_ARGS, ...args], {
    cwd: options.cwd,
    env: scrubGitEnv(options.env ?? process.env),
    extendEnv: false,
    stdin: 'ignore',
    detached: true,
    maxBuffer: { stdout: maxOutput, stderr: 64 * 1024 },
    reject: false,
    encoding: 'utf8',
  });
  let stopped: 'timeout' | 'cancel' | undefined;
  let escalation: NodeJS.Timeout | undefined;
  const stop = (reason: 'timeout' | 'cancel') => {
    if (stopped) return;
    stopped = reason;
    signalGroup(subprocess.pid, 'SIGTERM');
    escalation = setTimeout(() => signalGroup(subprocess.pid, 'SIGKILL'), GIT_KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('cancel');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let result: Awaited<typeof subprocess>;
  try {
    result = await subprocess;
  } finally {
    clearTimeout(timer);
    clearTimeout(escalation);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (stopped === 'timeout') throw new Error(`${command} timed out after ${timeoutMs / 1000} s and was stopped`);
  if (stopped === 'cancel') throw new Error(`${command} was cancelled`);
  if (result.isMaxBuffer) {
    signalGroup(subprocess.pid, 'SIGKILL');
    return { stdout: String(result.stdout ?? ''), truncated: true };
  }
  if (result.failed) {
    if ((result as { code?: string }).code === 'ENOENT') {
      throw new Error('git is not installed or not on PATH; install git to use these tools');
    }
    const detail = String(result.stderr || result.stdout || result.shortMessage).trim();
    throw new Error(`${command} failed: ${detail}`);
  }
  return { stdout: String(result.stdout ?? ''), truncated: false };
}

/** The note appended to output cut at the cap. */
export function truncationNote(maxOutput = MAX_GIT_OUTPUT): string {
  return `\n[output truncated at ${maxOutput} characters; ask for less (fewer commits, fewer paths, less context)]`;
}

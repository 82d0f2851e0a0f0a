import { execa } from 'execa';
import { GIT_KILL_GRACE_MS, GIT_TIMEOUT_MS, MAX_GIT_OUTPUT } from './limits.js';

/**
 * Options placed before every git subcommand. With the environment below and the repository config vetted against
 * an allow-list, no config can name a program; these switch off what runs without any config: hooks (a hook
 * written through another tool must not run; the reference server's commits skip hooks too), the pager, automatic
 * housekeeping, and git started inside submodules (whose own config is not vetted). fsmonitor stays off even if a
 * later git turns it on by default. Colours are off so output is plain text.
 */
const GLOBAL_ARGS = [
  '--no-pager',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'diff.ignoreSubmodules=all',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false',
  '-c',
  'color.ui=false',
];

/** The caller's variables git may see: where to find programs. Nothing else is inherited. */
const INHERITED_VARIABLES = ['PATH'];

/**
 * The environment git runs with, built rather than filtered: `PATH` from the caller and fixed values. No system or
 * global config (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), no system attributes, and `HOME=/dev/null`,
 * a home under which no file can ever exist (so no `~/.config/git/attributes` or ignore file either); no `GIT_*`
 * variable of the caller (which could point git at another repository, config or program); prompts, pagers and
 * editors disabled, optional index locks off (so a status never blocks the user's own git), messages in the C locale.
 */
export function scrubGitEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return {
    ...inherited,
    HOME: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_EDITOR: ':',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
    LANGUAGE: 'C',
  };
}

/** Where git runs: a directory, and for a vetted repository its git directory and working tree. */
export interface GitPlace {
  /** The directory git runs in (inside an allowed repository, or a neutral one for commands that need none). */
  cwd: string;
  /** The vetted git directory, passed explicitly so git never looks for one itself. */
  gitDir?: string;
  /** The working tree of `gitDir`. */
  workTree?: string;
}

/** Options of one git run. */
export interface RunGitOptions extends GitPlace {
  /** Config values for this run only (`-c key=value`), e.g. the author identity. */
  overrides?: readonly (readonly [string, string])[];
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
  const place = options.gitDir ? [`--git-dir=${options.gitDir}`, `--work-tree=${options.workTree ?? options.cwd}`] : [];
  const overrides = (options.overrides ?? []).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  const subprocess = execa('git', [...place, ...GLOBAL_ARGS, ...overrides, ...args], {
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

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { guardTool, jsonResult, toolError } from '../shared/index.js';
import { fitResult } from './fit-result.js';
import type { PythonOptions } from './options.js';
import {
  cpuSecondsFor,
  FILE_SIZE_LIMIT_BYTES,
  MAX_OUTPUT_BYTES,
  OPEN_FILES_LIMIT,
  PROCESS_LIMIT,
  type RunResult,
  runPython,
  type SandboxPlan,
} from './run-python.js';
import type { RunSlots } from './run-slots.js';
import type { SandboxProbe } from './sandbox-probe.js';

/** The version this server reports in `initialize`. */
export const PYTHON_SERVER_VERSION = '0.1.0';

/** Largest `code` or `stdin` accepted (1 MiB each): a script and its data, not a bulk upload. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** What the python server runs with. */
export interface PythonServerOptions {
  options: PythonOptions;
  probe: SandboxProbe;
  /** How runs are sandboxed, or null when Python cannot be run. */
  plan: SandboxPlan | null;
  /** Why runs are impossible, or null when they work. */
  problem: string | null;
  /** Interpreters tried and passed over at startup, with the reason. */
  skipped: string[];
  slots: RunSlots;
  /** Aborts every run in progress (the child is shutting down). */
  shutdown?: AbortSignal;
}

const RunOutput = {
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  truncated: z.boolean(),
  durationMs: z.number(),
  timeoutMs: z.number().int(),
};

/** What python_info reports: the interpreter, the isolation in force and the limits. */
export function describeSandbox(server: PythonServerOptions): Record<string, unknown> {
  const { options, probe, problem, skipped } = server;
  const user =
    probe.firstRunUid !== null
      ? `each run has a uid of its own, from ${probe.firstRunUid} (one per concurrent run, reserved for this child), not root; no capabilities, no set-user-ID`
      : probe.userNamespace
        ? "code runs with omnimind's user's rights, mapped to root inside its own user namespace"
        : "code runs with omnimind's user's rights";
  return {
    python: probe.python,
    available: problem === null,
    problem,
    interpretersSkipped: skipped,
    isolation: {
      isolatedMode: 'python -I: no user site-packages, PYTHON* variables ignored',
      networkIsolated: probe.unshareArgs !== null,
      network:
        probe.unshareArgs !== null
          ? 'isolated: each run has its own network namespace with only a loopback interface that is down'
          : 'NOT isolated: unshare could not create a network namespace here, so code can reach the network',
      processes: probe.pidNamespace
        ? 'own PID namespace: ending a run ends every process it started'
        : probe.firstRunUid !== null
          ? 'own uid: ending a run ends every process of that uid'
          : 'own process group: ending a run kills the group; a process that leaves the group survives until its CPU limit',
      user,
      environment: 'only PATH, HOME (the run directory), LANG, PYTHONDONTWRITEBYTECODE and PYTHONIOENCODING',
      filesystem: probe.privateFilesystem
        ? 'own mount namespace: a fresh directory, removed after the run, is /tmp, /var/tmp, /dev/shm, HOME and the working directory; /proc shows only the run; everything else is read-only'
        : 'a fresh temporary working directory, removed after the run; the rest of the file system is visible with the rights above',
    },
    limits: {
      timeoutMs: options.timeoutMs,
      memoryMbPerProcess: options.memoryMb,
      cpuSecondsPerProcess: cpuSecondsFor(options.timeoutMs),
      fileSizeBytes: FILE_SIZE_LIMIT_BYTES,
      processes: PROCESS_LIMIT,
      openFilesPerProcess: OPEN_FILES_LIMIT,
      outputBytesPerStream: MAX_OUTPUT_BYTES,
    },
  };
}

function checkInput(name: string, value: string | undefined): void {
  const bytes = value === undefined ? 0 : Buffer.byteLength(value);
  if (bytes > MAX_INPUT_BYTES) {
    throw new Error(`Expected \`${name}\` to be at most ${MAX_INPUT_BYTES} bytes, got ${bytes}.`);
  }
}

/** Builds the python MCP server: run_python and python_info. */
export function createPythonServer(server: PythonServerOptions): McpServer {
  const { options, probe, plan, problem, slots, shutdown } = server;
  const mcp = new McpServer({ name: 'omnimind-python', version: PYTHON_SERVER_VERSION });
  const info = describeSandbox(server);

  mcp.registerTool(
    'run_python',
    {
      title: 'Run Python',
      description: `Run Python 3 code in a sandbox: a fresh temporary directory, a scrubbed environment, ${
        probe.unshareArgs !== null ? 'no network, ' : ''
      }limits on time, memory, processes and file size. Returns stdout, stderr (at most 1 MiB each), exit code, and whether it timed out or was truncated. Nothing persists between runs. python_info tells exactly what is isolated.`,
      inputSchema: {
        code: z.string().describe('Python source to run as a script (main.py in the run directory)'),
        timeoutMs: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(`Wall-clock limit in ms, at most ${options.timeoutMs} (the default)`),
        stdin: z.string().optional().describe('Text given to the program on standard input'),
      },
      outputSchema: RunOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: probe.unshareArgs === null,
      },
    },
    ({ code, timeoutMs, stdin }, extra) =>
      guardTool(async () => {
        if (plan === null || problem !== null) {
          return toolError(
            `Python cannot run here: ${problem ?? 'no interpreter'}. Install Python 3 or set \`children.python.python\` in the config to an interpreter.`,
          );
        }
        checkInput('code', code);
        checkInput('stdin', stdin);
        const limit = Math.min(timeoutMs ?? options.timeoutMs, options.timeoutMs);
        const run = { code, stdin, timeoutMs: limit, memoryMb: options.memoryMb };
        const signal = shutdown ? AbortSignal.any([extra.signal, shutdown]) : extra.signal;
        const result: RunResult = await slots.use((slot) => runPython(plan, { ...run, slot }, signal), signal);
        return jsonResult(fitResult({ ...result, timeoutMs: limit }));
      }),
  );

  mcp.registerTool(
    'python_info',
    {
      title: 'Python Info',
      description: 'The Python version, the isolation in force for run_python and its limits',
      inputSchema: {},
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    () => jsonResult(info),
  );
  return mcp;
}

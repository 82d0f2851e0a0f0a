export { CappedOutput } from './capped-output.js';
export { endProcessesOf } from './end-processes.js';
export { fitResult, MAX_ANSWER_BYTES, measureAnswer } from './fit-result.js';
export {
  DEFAULT_MEMORY_MB,
  DEFAULT_PYTHONS,
  DEFAULT_TIMEOUT_MS,
  MIN_MEMORY_MB,
  type PythonOptions,
  parsePythonOptions,
} from './options.js';
export { SANDBOX_PREAMBLE } from './preamble.js';
export {
  buildCommand,
  cpuSecondsFor,
  FILE_SIZE_LIMIT_BYTES,
  MAX_OUTPUT_BYTES,
  OPEN_FILES_LIMIT,
  PROCESS_LIMIT,
  type PythonRun,
  type RunResult,
  runPython,
  runUid,
  type SandboxPlan,
  sandboxEnv,
} from './run-python.js';
export { RunSlots } from './run-slots.js';
export { firstRunUid, probeSandbox, RUN_UID_BASE, type SandboxProbe } from './sandbox-probe.js';
export { planFor, type SandboxSetup, setUpSandbox } from './sandbox-setup.js';
export {
  createPythonServer,
  describeSandbox,
  MAX_INPUT_BYTES,
  PYTHON_SERVER_VERSION,
  type PythonServerOptions,
} from './server.js';

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  buildCommand,
  FILE_SIZE_LIMIT_BYTES,
  OPEN_FILES_LIMIT,
  runPython,
  runUid,
  type SandboxPlan,
  sandboxEnv,
} from '../../../../src/children/python/run-python.js';
import { firstRunUid, RUN_UID_BASE } from '../../../../src/children/python/sandbox-probe.js';

const executable = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const plain: SandboxPlan = {
  executable,
  unshareArgs: null,
  privateFilesystem: false,
  firstRunUid: null,
  countOwnProcesses: false,
};

describe('buildCommand', () => {
  it('runs the preamble with the limits, inside unshare when the plan has it', () => {
    const run = { code: '', timeoutMs: 2_500, memoryMb: 128 };
    const direct = buildCommand(plain, run);
    expect(direct.file).toBe(executable);
    expect(direct.args.slice(0, 2)).toEqual(['-I', '-c']);
    expect(direct.args.slice(3)).toEqual([
      String(128 * 1024 * 1024),
      '4',
      String(FILE_SIZE_LIMIT_BYTES),
      '32',
      String(OPEN_FILES_LIMIT),
      '-1',
      '0',
      '0',
    ]);
    const wrapped = buildCommand(
      { ...plain, unshareArgs: ['-n', '--mount-proc'], privateFilesystem: true, firstRunUid: 5_000 },
      { ...run, slot: 3 },
    );
    expect(wrapped.file).toBe('unshare');
    expect(wrapped.args.slice(0, 4)).toEqual(['-n', '--mount-proc', '--', executable]);
    expect(wrapped.args.slice(-3)).toEqual(['5003', '0', '1']);
  });

  it('gives each run slot its own uid, and every python child its own block of them', () => {
    expect(runUid(plain, { code: '', timeoutMs: 1, memoryMb: 64, slot: 2 })).toBeNull();
    expect(runUid({ ...plain, firstRunUid: 70 }, { code: '', timeoutMs: 1, memoryMb: 64 })).toBe(70);
    expect(firstRunUid(1, 4)).toBe(RUN_UID_BASE + 4);
    expect(firstRunUid(2, 4)).toBe(firstRunUid(1, 4) + 4);
    expect(firstRunUid(4_194_303, 16)).toBeLessThan(0x7ffe_0000);
    expect(() => firstRunUid(1, 17)).toThrow('Expected `slots` to be an integer from 1 to 16, got `17`');
  });

  it('gives the run only the documented environment', () => {
    expect(Object.keys(sandboxEnv(plain, '/tmp/x')).sort()).toEqual([
      'HOME',
      'LANG',
      'PATH',
      'PYTHONDONTWRITEBYTECODE',
      'PYTHONIOENCODING',
    ]);
    expect(sandboxEnv(plain, '/tmp/x').HOME).toBe('/tmp/x');
    expect(sandboxEnv({ ...plain, privateFilesystem: true }, '/tmp/x').HOME).toBe('/tmp');
  });
});

describe('runPython', () => {
  it('applies every resource limit before the code runs', async () => {
    const code = [
      'import resource as r',
      'for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE"):',
      '    print(name, *r.getrlimit(getattr(r, name)))',
    ].join('\n');
    const result = await runPython(plain, { code, timeoutMs: 2_000, memoryMb: 100 });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `RLIMIT_AS ${100 * 1024 * 1024} ${100 * 1024 * 1024}`,
      'RLIMIT_CPU 3 4',
      `RLIMIT_FSIZE ${FILE_SIZE_LIMIT_BYTES} ${FILE_SIZE_LIMIT_BYTES}`,
      `RLIMIT_NOFILE ${OPEN_FILES_LIMIT} ${OPEN_FILES_LIMIT}`,
      'RLIMIT_CORE 0 0',
    ]);
  });

  it('adds the user’s own processes to the process limit outside a user namespace', async () => {
    const code = 'import resource as r; print(r.getrlimit(r.RLIMIT_NPROC)[0])';
    const absolute = await runPython(plain, { code, timeoutMs: 2_000, memoryMb: 100 });
    const relative = await runPython({ ...plain, countOwnProcesses: true }, { code, timeoutMs: 2_000, memoryMb: 100 });
    expect(Number(absolute.stdout)).toBe(32);
    expect(Number(relative.stdout)).toBeGreaterThan(32);
  });

  it('stops a file larger than the file size limit', async () => {
    const code = `f = open("big", "wb")\ntry:\n    f.write(b"x" * ${FILE_SIZE_LIMIT_BYTES + 1})\n    f.flush()\nexcept OSError as e:\n    print("refused", e.errno)`;
    const result = await runPython(plain, { code, timeoutMs: 5_000, memoryMb: 512 });
    expect(result.stdout).toMatch(/^refused 27/);
  });

  it('rejects when the interpreter cannot be started', async () => {
    await expect(
      runPython({ ...plain, executable: '/nonexistent/python3' }, { code: '', timeoutMs: 1_000, memoryMb: 100 }),
    ).rejects.toThrow('Cannot start Python');
  });
});

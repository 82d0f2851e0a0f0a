import { describe, expect, it } from 'vitest';
import { fitResult, measureAnswer } from '../../../../src/children/python/fit-result.js';
import type { RunResult } from '../../../../src/children/python/run-python.js';

const base: RunResult = {
  stdout: '',
  stderr: '',
  exitCode: 0,
  signal: null,
  timedOut: false,
  truncated: false,
  durationMs: 1,
};

describe('fitResult', () => {
  it('leaves a small result as it is', () => {
    const result = { ...base, stdout: 'hello' };
    expect(fitResult(result, 10_000)).toEqual(result);
  });

  it('shortens the larger stream until the whole answer fits, and marks it truncated', () => {
    const result = { ...base, stdout: '"'.repeat(100_000), stderr: 'e'.repeat(1_000) };
    const fitted = fitResult(result, 50_000);
    expect(measureAnswer(fitted)).toBeLessThanOrEqual(50_000);
    expect(fitted.truncated).toBe(true);
    expect(fitted.stderr).toBe(result.stderr);
    expect(result.stdout.startsWith(fitted.stdout)).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const fitted = fitResult({ ...base, stdout: '😀'.repeat(5_000) }, 2_000);
    expect(fitted.stdout.length % 2).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { parsePythonOptions } from '../../../../src/children/python/options.js';

describe('parsePythonOptions', () => {
  it('fills in the defaults, leaving the interpreter to be found', () => {
    expect(parsePythonOptions({})).toEqual({ timeoutMs: 10_000, memoryMb: 512, python: undefined });
  });

  it('takes the configured values', () => {
    expect(parsePythonOptions({ timeoutMs: 500, memoryMb: 128, python: '/usr/bin/python3' })).toEqual({
      timeoutMs: 500,
      memoryMb: 128,
      python: '/usr/bin/python3',
    });
  });

  it('names the bad option and the value it got', () => {
    expect(() => parsePythonOptions({ timeoutMs: 0 })).toThrow('Expected `timeoutMs` to be an integer >= 1, got `0`');
    expect(() => parsePythonOptions({ memoryMb: 8 })).toThrow('Expected `memoryMb` to be an integer >= 64, got `8`');
    expect(() => parsePythonOptions({ python: '' })).toThrow('Expected `python` to be a non-empty command or path');
  });
});

import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../../../../src/children/python/capped-output.js';

describe('CappedOutput', () => {
  it('keeps everything under the limit', () => {
    const output = new CappedOutput(10);
    output.push(Buffer.from('abc'));
    output.push(Buffer.from('def'));
    expect(output.text()).toBe('abcdef');
    expect(output.truncated).toBe(false);
  });

  it('keeps the first bytes up to the limit and marks the rest as dropped', () => {
    const output = new CappedOutput(4);
    output.push(Buffer.from('abc'));
    output.push(Buffer.from('defgh'));
    output.push(Buffer.from('ij'));
    expect(output.text()).toBe('abcd');
    expect(output.truncated).toBe(true);
  });

  it('leaves out a character cut in half at the limit', () => {
    const output = new CappedOutput(5);
    output.push(Buffer.from('abcdé'));
    expect(output.text()).toBe('abcd');
    expect(output.truncated).toBe(true);
  });

  it('refuses a negative limit', () => {
    expect(() => new CappedOutput(-1)).toThrow('Expected `limitBytes` to be an integer >= 0, got `-1`');
  });
});

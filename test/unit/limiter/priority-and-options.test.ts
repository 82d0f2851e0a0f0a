import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, LIMITER_DEFAULTS, parsePriority, resolvePriority } from '../../../src/limiter/index.js';
import { createStubHealth, FakeClock } from './fake-clock.js';

describe('resolvePriority', () => {
  it('takes _meta.priority first, in any case', () => {
    expect(resolvePriority({ priority: 'high' }, 'tools/call', { tool: 'LOW', client: 'LOW' })).toBe('HIGH');
    expect(resolvePriority({ priority: 'Critical' }, 'resources/read', {})).toBe('CRITICAL');
    expect(resolvePriority({ priority: 'LOW' }, 'ping', {})).toBe('LOW');
  });

  it('ignores a _meta.priority that is not one of the four', () => {
    expect(resolvePriority({ priority: 'urgent' }, 'tools/call', {})).toBe('NORMAL');
    expect(resolvePriority({ priority: 3 }, 'tools/call', { client: 'HIGH' })).toBe('HIGH');
    expect(resolvePriority('HIGH', 'tools/call', {})).toBe('NORMAL');
    expect(resolvePriority(null, 'tools/call', {})).toBe('NORMAL');
  });

  it('makes ping, initialize and control requests CRITICAL', () => {
    for (const method of ['ping', 'initialize', 'logging/setLevel', 'notifications/cancelled']) {
      expect(resolvePriority(undefined, method, { client: 'LOW' })).toBe('CRITICAL');
    }
  });

  it('then uses the tool default, then the client default, else NORMAL', () => {
    expect(resolvePriority({}, 'tools/call', { tool: 'LOW', client: 'HIGH' })).toBe('LOW');
    expect(resolvePriority({ progressToken: 1 }, 'tools/call', { client: 'HIGH' })).toBe('HIGH');
    expect(resolvePriority(undefined, 'resources/list', {})).toBe('NORMAL');
  });

  it('parses priority names case-insensitively and rejects others', () => {
    expect(parsePriority('normal')).toBe('NORMAL');
    expect(parsePriority('toString')).toBeUndefined();
    expect(parsePriority(undefined)).toBeUndefined();
  });
});

describe('AdaptiveLimiter options', () => {
  const clock = new FakeClock();
  const healthProbe = createStubHealth().probe;

  it('defaults to the documented values', () => {
    const limiter = new AdaptiveLimiter({ clock, healthProbe });
    expect(limiter.stats()).toMatchObject({ rps: LIMITER_DEFAULTS.initialRps, queued: 0, running: 0, shed: 0 });
    expect(LIMITER_DEFAULTS).toEqual({
      initialRps: 100,
      minRps: 10,
      maxRps: 100_000,
      maxQueue: 10_000,
      timeoutMs: 30_000,
      sampleIntervalMs: 5_000,
    });
    limiter.close();
  });

  it.each([
    [{ maxQueue: -1 }, 'Expected `maxQueue` to be an integer >= 1, got `-1`'],
    [{ maxQueue: 2.5 }, 'Expected `maxQueue` to be an integer >= 1, got `2.5`'],
    [{ initialRps: 0 }, 'Expected `initialRps` to be a finite number > 0, got `0`'],
    [{ minRps: 500, maxRps: 100 }, 'Expected `minRps` to be <= maxRps (100), got `500`'],
    [{ initialRps: 5, minRps: 10 }, 'Expected `initialRps` to be between minRps and maxRps, got `5`'],
    [{ timeoutMs: 1_000, maxTimeoutMs: 500 }, 'Expected `maxTimeoutMs` to be >= timeoutMs (1000), got `500`'],
    [{ maxConcurrency: 0 }, 'Expected `maxConcurrency` to be an integer >= 1, got `0`'],
    [
      { childConcurrency: { python: Number.NaN } },
      'Expected `childConcurrency.python` to be an integer >= 1, got `NaN`',
    ],
    [{ sampleIntervalMs: Number.POSITIVE_INFINITY }, 'Expected `sampleIntervalMs` to be a finite number > 0'],
    [{ stress: { latencyFactor: -2 } }, 'Expected `stress.latencyFactor` to be a finite number > 0, got `-2`'],
  ])('rejects %j', (options, message) => {
    expect(() => new AdaptiveLimiter({ clock, healthProbe, ...options })).toThrow(message);
    try {
      new AdaptiveLimiter({ clock, healthProbe, ...options });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });
});

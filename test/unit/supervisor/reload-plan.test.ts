import { describe, expect, it } from 'vitest';
import { type RawConfig, resolveChildSpecs, resolvePaths } from '../../../src/config/index.js';
import { planReload } from '../../../src/supervisor/reload-plan.js';

const paths = resolvePaths({ OMNIMIND_HOME: '/tmp/h', OMNIMIND_RUNTIME_DIR: '/tmp/r', OMNIMIND_CONFIG: '/tmp/c.json' });
const server = (...args: string[]) => ({ command: 'node', args });

function plan(before: RawConfig, after: RawConfig) {
  const side = (config: RawConfig) => ({ config, specs: resolveChildSpecs(config, paths, '/work') });
  return planReload(side(before), side(after));
}

describe('planReload', () => {
  it('sorts children into added, removed, changed and kept by name and identity', () => {
    const result = plan(
      { mcpServers: { keep: server('a'), change: server('b'), drop: server('c') } },
      { mcpServers: { keep: server('a'), change: server('b', '--x'), add: server('d') } },
    );
    expect(result.added.map((s) => s.name)).toEqual(['add']);
    expect(result.removed).toEqual(['drop']);
    expect(result.changed.map((s) => s.name)).toEqual(['change']);
    expect(result.kept).toContain('keep');
    expect(result.kept).toContain('memory');
    expect(result.settings).toEqual([]);
  });

  it('treats a renamed child as one removed and one added, and a disabled one as removed', () => {
    const result = plan(
      { mcpServers: { old: server('a') } },
      { mcpServers: { fresh: server('a') }, children: { memory: { enabled: false } } },
    );
    expect(result.added.map((s) => s.name)).toEqual(['fresh']);
    expect(result.removed.sort()).toEqual(['memory', 'old']);
  });

  it('restarts a child whose env, cwd or options changed, built-in or not', () => {
    const result = plan(
      { mcpServers: { e: server('a') }, children: { python: { timeoutMs: 1000 } } },
      { mcpServers: { e: { ...server('a'), env: { K: 'v' } } }, children: { python: { timeoutMs: 2000 } } },
    );
    expect(result.changed.map((s) => s.name).sort()).toEqual(['e', 'python']);
  });

  it('keeps a child whose start or idleStopSeconds alone changed, and lists it for a live update', () => {
    const result = plan(
      { mcpServers: { e: server('a') } },
      {
        mcpServers: { e: { ...server('a'), start: 'on-demand' } },
        children: { memory: { idleStopSeconds: 60 } },
      },
    );
    expect(result.changed).toEqual([]);
    expect(result.lifecycle.map((s) => s.name).sort()).toEqual(['e', 'memory']);
    expect(result.kept).toContain('e');
  });

  it('sorts profiles into added, removed, replaced (a new tools filter) and kept', () => {
    const result = plan(
      {
        mcpServers: { x: server('a') },
        profiles: { keep: { children: ['x'] }, drop: { children: ['x'] }, deny: { children: ['x'] } },
      },
      {
        mcpServers: { x: server('a') },
        profiles: {
          keep: { children: ['x', 'memory'] },
          add: { children: ['x'] },
          deny: { children: ['x'], tools: { deny: ['x__*'] } },
        },
      },
    );
    expect(result.profiles.added.map((p) => p.name)).toEqual(['add']);
    expect(result.profiles.removed).toEqual(['drop']);
    expect(result.profiles.replaced.map((p) => p.name)).toEqual(['deny']);
    expect(result.profiles.kept.map((p) => p.name).sort()).toEqual(['keep', 'omnimind']);
    expect(result.settings).toEqual([]);
  });

  it('lists the top-level settings that differ, and those that wait for a supervisor restart', () => {
    const result = plan(
      { cache: { ttlSeconds: 5 }, logs: { keep: 2 } },
      { cache: { ttlSeconds: 9 }, limiter: { minRps: 20 }, logs: { keep: 3 }, health: { maxMissedPings: 5 } },
    );
    expect(result.settings).toEqual(['cache', 'health', 'limiter', 'logs']);
    // A time to live and rate bounds apply at once; sizes and the starting rate wait for a restart.
    expect(result.applyAtRestart).toEqual([]);
    const sized = plan(
      { cache: { l1MaxBytes: 1_000_000 }, limiter: { initialRps: 10 } },
      { cache: { l1MaxBytes: 2_000_000 }, limiter: { initialRps: 20 }, gateway: { maxFrameBytes: 1024 } },
    );
    expect(sized.applyAtRestart).toEqual(['cache.l1MaxBytes', 'gateway.maxFrameBytes', 'limiter.initialRps']);
    const priorities = plan({ limiter: { minRps: 20 } }, { limiter: { minRps: 20, clients: { ci: 'LOW' } } });
    expect(priorities.settings).toEqual(['limiter']);
    expect(priorities.applyAtRestart).toEqual([]);
  });
});

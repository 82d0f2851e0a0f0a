import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveChildSpecs, resolvePaths, validateConfig } from '../../../src/config/index.js';

describe('resolvePaths', () => {
  it('follows OMNIMIND_* first, then XDG, then /run/user/<uid>, then the home directory', () => {
    const userRun = `/run/user/${process.getuid?.()}`;
    const made = !existsSync(userRun);
    if (made) mkdirSync(userRun, { recursive: true, mode: 0o700 });
    try {
      expect(resolvePaths({ HOME: '/h' }).runtimeDir).toBe(`${userRun}/omnimind`);
    } finally {
      if (made) rmSync(userRun, { recursive: true });
    }
    if (made) {
      expect(resolvePaths({ HOME: '/h' })).toMatchObject({
        home: '/h/.local/state/omnimind',
        runtimeDir: '/h/.local/state/omnimind/run',
        configFile: '/h/.config/omnimind/config.json',
      });
    }
    expect(
      resolvePaths({ HOME: '/h', XDG_STATE_HOME: '/s', XDG_RUNTIME_DIR: '/r', XDG_CONFIG_HOME: '/c' }),
    ).toMatchObject({
      home: '/s/omnimind',
      runtimeDir: '/r/omnimind',
      configFile: '/c/omnimind/config.json',
      controlSocket: '/r/omnimind/control.sock',
    });
    expect(
      resolvePaths(
        { HOME: '/h', OMNIMIND_HOME: '/o', OMNIMIND_RUNTIME_DIR: '/rt', OMNIMIND_CONFIG: '/cfg.json' },
        '/flag.json',
      ),
    ).toMatchObject({ home: '/o', runtimeDir: '/rt', configFile: '/flag.json', cacheDb: '/o/cache.db' });
  });
});

describe('validateConfig', () => {
  it('accepts the CONTRACT example', () => {
    const example = {
      children: {
        memory: {},
        python: { timeoutMs: 10000, memoryMb: 512 },
        filesystem: { roots: ['/home/me/project'] },
        sqlite: { database: '/home/me/data.db', readOnly: false, enabled: true },
      },
      mcpServers: { everything: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'], env: {} } },
      cache: { l1MaxBytes: 67108864, l2MaxBytes: 10485760, ttlSeconds: 300 },
      limiter: { initialRps: 100, minRps: 10, maxRps: 100000, maxQueue: 50, timeoutMs: 30000 },
    };
    expect(validateConfig(example).problems).toEqual([]);
  });

  it('lists every problem with its path and a hint', () => {
    const { problems } = validateConfig({
      children: { git: { repositories: 'x' } },
      mcpServers: { 'Bad Name': { command: 'x' }, ok: { command: '' } },
      limiter: { maxQueue: -1 },
    });
    expect(problems.map((p) => p.path).sort()).toEqual([
      '$.children.git.repositories',
      '$.limiter.maxQueue',
      '$.mcpServers.Bad Name',
      '$.mcpServers.ok.command',
    ]);
    for (const problem of problems) expect(problem.hint).not.toBe('');
  });

  it('accepts start and idleStopSeconds on every child and explains bad values', () => {
    const good = validateConfig({
      children: { memory: { start: 'on-demand', idleStopSeconds: 300 } },
      mcpServers: { x: { command: 'x', start: 'eager', idleStopSeconds: 0 } },
    });
    expect(good.problems).toEqual([]);
    const { problems } = validateConfig({
      children: { thinking: { start: 'lazy' }, git: { idleStopSeconds: -1 } },
      mcpServers: { x: { command: 'x', idleStopSeconds: 1.5 } },
    });
    expect(problems.map((p) => [p.path, p.hint])).toEqual([
      ['$.children.thinking.start', 'use one of "eager", "on-demand"'],
      ['$.children.git.idleStopSeconds', 'use a larger value or a non-empty one'],
      ['$.mcpServers.x.idleStopSeconds', 'use a value of type int'],
    ]);
    expect(problems.map((p) => p.message)).toContain('idleStopSeconds must be a whole number of seconds');
  });
});

describe('mcpServers names', () => {
  it('refuses reserved names and built-in child names, listed with the other problems', () => {
    const { config, problems } = validateConfig({
      mcpServers: {
        control: { command: 'a' },
        omnimind: { command: 'b' },
        supervisor: { command: 'c' },
        git: { command: 'd' },
      },
      limiter: { maxQueue: 0 },
    });
    expect(config).toEqual({});
    expect(problems.map((p) => p.path)).toEqual([
      '$.limiter.maxQueue',
      '$.mcpServers.control',
      '$.mcpServers.omnimind',
      '$.mcpServers.supervisor',
      '$.mcpServers.git',
    ]);
    expect(problems[1]?.message).toBe('"control" is reserved for the control socket (control.sock)');
    expect(problems[4]?.hint).toContain('set children.git.enabled to false');
  });

  it('lets a server take the name of a built-in only when that built-in is disabled, and then runs it alone', () => {
    const server = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] };
    expect(validateConfig({ children: { memory: {} }, mcpServers: { memory: server } }).problems).toHaveLength(1);
    const { config, problems } = validateConfig({
      children: { memory: { enabled: false } },
      mcpServers: { memory: server },
    });
    expect(problems).toEqual([]);
    const specs = resolveChildSpecs(config, resolvePaths({ HOME: '/h' }), '/work').filter((s) => s.name === 'memory');
    expect(specs.map((s) => [s.builtin, s.command, s.enabled])).toEqual([[false, 'npx', true]]);
  });
});

describe('resolveChildSpecs', () => {
  it('turns built-ins and mcpServers into child specs with defaults', () => {
    const paths = resolvePaths({ HOME: '/h', OMNIMIND_HOME: '/o' });
    const specs = resolveChildSpecs(
      {
        children: { git: { enabled: false } },
        mcpServers: { ext: { command: 'srv', args: ['-x'], cwd: 'sub', env: { A: '1' } } },
      },
      paths,
      '/work',
    );
    expect(specs.map((s) => s.name)).toEqual([
      'memory',
      'context',
      'thinking',
      'python',
      'filesystem',
      'git',
      'sqlite',
      'ext',
    ]);
    expect(specs.find((s) => s.name === 'git')?.enabled).toBe(false);
    expect(specs.find((s) => s.name === 'filesystem')?.options).toMatchObject({ roots: ['/work'] });
    expect(specs.find((s) => s.name === 'sqlite')?.options).toMatchObject({ database: '/o/data/sqlite.db' });
    expect(specs.at(-1)).toMatchObject({
      builtin: false,
      command: 'srv',
      args: ['-x'],
      cwd: '/work/sub',
      env: { A: '1' },
    });
  });
});

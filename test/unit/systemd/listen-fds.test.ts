import { describe, expect, it } from 'vitest';
import { OmnimindError } from '../../../src/protocol/index.js';
import { inheritedSockets } from '../../../src/systemd/index.js';

describe('inheritedSockets', () => {
  it('returns nothing without LISTEN_FDS', () => {
    expect(inheritedSockets({ PATH: '/usr/bin' }).size).toBe(0);
  });

  it('ignores sockets meant for another process and still removes the variables', () => {
    const env: NodeJS.ProcessEnv = {
      LISTEN_FDS: '1',
      LISTEN_FDNAMES: 'memory',
      LISTEN_PID: String(process.pid + 1),
      PATH: '/usr/bin',
    };
    expect(inheritedSockets(env).size).toBe(0);
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('removes the variables when they are for this process, so children do not inherit them', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: '0', LISTEN_PID: String(process.pid) };
    expect(inheritedSockets(env).size).toBe(0);
    expect(env).toEqual({});
  });

  it('rejects a LISTEN_FDS that is not a count', () => {
    const env = { LISTEN_FDS: 'two', LISTEN_PID: String(process.pid) };
    expect(() => inheritedSockets(env)).toThrow(/Expected `LISTEN_FDS` to be an integer >= 0, got `two`/);
  });

  it('rejects names that do not match the number of sockets', () => {
    const env = { LISTEN_FDS: '2', LISTEN_FDNAMES: 'memory', LISTEN_PID: String(process.pid) };
    expect(() => inheritedSockets(env)).toThrow(/names 1 sockets but LISTEN_FDS passes 2/);
  });

  it('rejects two sockets with one name', () => {
    const env = { LISTEN_FDS: '2', LISTEN_FDNAMES: 'memory:memory', LISTEN_PID: String(process.pid) };
    let caught: unknown;
    try {
      inheritedSockets(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OmnimindError);
    expect((caught as OmnimindError).code).toBe('LISTEN_FDS_INVALID');
    expect((caught as OmnimindError).message).toMatch(/both named `memory`.*FileDescriptorName=/);
  });

  it('rejects an fd that is not an open socket', () => {
    // The test process has far fewer than 500 fds open, so some fd from 3 on is closed or not a socket.
    const names = Array.from({ length: 500 }, (_, index) => `child${index}`);
    const env = { LISTEN_FDS: String(names.length), LISTEN_FDNAMES: names.join(':'), LISTEN_PID: String(process.pid) };
    expect(() => inheritedSockets(env)).toThrow(/Inherited fd \d+ \(`child\d+`\) is not an open socket/);
  });
});

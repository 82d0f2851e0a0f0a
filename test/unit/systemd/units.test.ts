import { describe, expect, it } from 'vitest';
import { type RenderOptions, renderSysusers, renderUnits, unitsToEnable } from '../../../src/systemd/index.js';

const userOptions: RenderOptions = {
  mode: 'user',
  nodePath: '/usr/local/bin/node',
  cliPath: '/opt/omnimind/bin/omnimind.js',
  children: ['memory', 'python'],
  readWritePaths: ['/home/me/project', '/home/me/data'],
  home: '/home/me/.local/state/omnimind',
  configFile: '/home/me/.config/omnimind/config.json',
};
const systemOptions: RenderOptions = {
  ...userOptions,
  mode: 'system',
  home: '/var/lib/omnimind',
  configFile: '/etc/omnimind/config.json',
};

function unit(options: RenderOptions, name: string): string {
  const found = renderUnits(options).find((rendered) => rendered.name === name);
  if (found === undefined) throw new Error(`${name} was not rendered`);
  return found.text;
}

/** The values of one setting, in order. */
function setting(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('renderUnits', () => {
  it('renders the service, the per-child socket template and the control socket', () => {
    expect(renderUnits(userOptions).map((rendered) => rendered.name)).toEqual([
      'omnimind.service',
      'omnimind@.socket',
      'omnimind-control.socket',
    ]);
  });

  it('starts the CLI in the foreground as a notify service with a watchdog', () => {
    const service = unit(userOptions, 'omnimind.service');
    expect(setting(service, 'ExecStart')).toEqual([
      '"/usr/local/bin/node" "/opt/omnimind/bin/omnimind.js" start --foreground',
    ]);
    expect(setting(service, 'Type')).toEqual(['notify']);
    expect(setting(service, 'NotifyAccess')).toEqual(['all']);
    expect(setting(service, 'WatchdogSec')).toEqual(['30s']);
    expect(setting(service, 'KillMode')).toEqual(['mixed']);
    expect(setting(service, 'RuntimeDirectoryPreserve')).toEqual(['yes']);
    expect(setting(service, 'Environment')).toEqual([
      '"PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"',
      '"OMNIMIND_HOME=/home/me/.local/state/omnimind"',
      '"OMNIMIND_RUNTIME_DIR=%t/omnimind"',
      '"OMNIMIND_CONFIG=/home/me/.config/omnimind/config.json"',
    ]);
  });

  it('pulls in every socket, so the service always receives all of them', () => {
    expect(setting(unit(userOptions, 'omnimind.service'), 'Sockets')).toEqual([
      'omnimind-control.socket omnimind@memory.socket omnimind@python.socket',
    ]);
    expect(unitsToEnable(['memory'])).toEqual([
      'omnimind.service',
      'omnimind-control.socket',
      'omnimind@memory.socket',
    ]);
  });

  it('names each socket after its child, in a private directory', () => {
    const socket = unit(userOptions, 'omnimind@.socket');
    expect(setting(socket, 'ListenStream')).toEqual(['%t/omnimind/%i.sock']);
    expect(setting(socket, 'FileDescriptorName')).toEqual(['%i']);
    expect(setting(socket, 'SocketMode')).toEqual(['0600']);
    expect(setting(socket, 'DirectoryMode')).toEqual(['0700']);
    expect(setting(socket, 'Service')).toEqual(['omnimind.service']);
    const control = unit(userOptions, 'omnimind-control.socket');
    expect(setting(control, 'ListenStream')).toEqual(['%t/omnimind/control.sock']);
    expect(setting(control, 'FileDescriptorName')).toEqual(['control']);
  });

  it('makes the state dir and the configured paths writable in user mode, tolerating missing ones', () => {
    const service = unit(userOptions, 'omnimind.service');
    expect(setting(service, 'ReadWritePaths')).toEqual([
      '"-/home/me/.local/state/omnimind" "-/home/me/project" "-/home/me/data"',
    ]);
    expect(setting(service, 'PrivateUsers')).toEqual(['yes']);
    expect(setting(service, 'User')).toEqual([]);
    expect(setting(service, 'WantedBy')).toEqual(['default.target']);
  });

  it('runs as a system account with a StateDirectory in system mode', () => {
    const service = unit(systemOptions, 'omnimind.service');
    expect(setting(service, 'User')).toEqual(['omnimind']);
    expect(setting(service, 'Group')).toEqual(['omnimind']);
    expect(setting(service, 'StateDirectory')).toEqual(['omnimind']);
    expect(setting(service, 'ReadWritePaths')).toEqual(['"-/home/me/project" "-/home/me/data"']);
    expect(setting(service, 'PrivateUsers')).toEqual([]);
    expect(setting(service, 'WantedBy')).toEqual(['multi-user.target']);
    expect(setting(unit(systemOptions, 'omnimind@.socket'), 'SocketUser')).toEqual(['omnimind']);
    expect(setting(unit({ ...systemOptions, serviceUser: 'mcp' }, 'omnimind.service'), 'User')).toEqual(['mcp']);
    expect(renderSysusers(systemOptions).text).toMatch(
      /^u omnimind - "omnimind MCP supervisor" \/var\/lib\/omnimind\n$/m,
    );
  });

  it('leaves ReadWritePaths out rather than empty when nothing extra is writable', () => {
    expect(unit({ ...systemOptions, readWritePaths: [] }, 'omnimind.service')).not.toMatch(/^ReadWritePaths=/m);
  });

  it('allows only unix and netlink sockets unless network access is asked for', () => {
    const local = unit(userOptions, 'omnimind.service');
    expect(setting(local, 'RestrictAddressFamilies')).toEqual(['AF_UNIX AF_NETLINK']);
    expect(setting(local, 'IPAddressDeny')).toEqual(['any']);
    const network = unit({ ...userOptions, allowNetwork: true }, 'omnimind.service');
    expect(setting(network, 'RestrictAddressFamilies')).toEqual(['AF_UNIX AF_NETLINK AF_INET AF_INET6']);
    expect(setting(network, 'IPAddressDeny')).toEqual([]);
    expect(setting(network, 'ReadWritePaths')[0]).toMatch(/"-%h\/\.npm" "-%h\/\.cache"$/);
  });

  it('escapes specifiers, variables, quotes and backslashes in paths', () => {
    const service = unit(
      {
        ...userOptions,
        nodePath: '/opt/100%/$HOME/node',
        cliPath: '/opt/my "cli"\\x/omnimind.js',
        readWritePaths: ['/data/50% done'],
      },
      'omnimind.service',
    );
    expect(setting(service, 'ExecStart')).toEqual([
      '"/opt/100%%/$$HOME/node" "/opt/my \\"cli\\"\\\\x/omnimind.js" start --foreground',
    ]);
    expect(setting(service, 'ReadWritePaths')[0]).toContain('"-/data/50%% done"');
  });

  it('leaves no template tag or placeholder behind', () => {
    for (const options of [userOptions, systemOptions, { ...systemOptions, allowNetwork: true }]) {
      for (const rendered of renderUnits(options)) {
        expect(rendered.text).not.toMatch(/^@[a-z]+ /m);
        expect(rendered.text).not.toMatch(/@[A-Z_]+@/);
        expect(rendered.text.endsWith('\n')).toBe(true);
      }
    }
  });

  it('rejects options systemd could not use, saying what was expected', () => {
    expect(() => renderUnits({ ...userOptions, nodePath: 'node' })).toThrow(
      'Expected `nodePath` to be an absolute path, got `node`',
    );
    expect(() => renderUnits({ ...userOptions, readWritePaths: ['repo'] })).toThrow(
      'Expected `readWritePaths[0]` to be an absolute path, got `repo`',
    );
    expect(() => renderUnits({ ...userOptions, children: ['my server'] })).toThrow(/got `my server`/);
    expect(() => renderUnits({ ...userOptions, children: ['a:b'] })).toThrow(/got `a:b`/);
    expect(() => renderUnits({ ...userOptions, children: ['control'] })).toThrow(/not `control`/);
    expect(() => renderUnits({ ...systemOptions, home: '/srv/omnimind' })).toThrow(
      'Expected `home` to be a directory under /var/lib in system mode, got `/srv/omnimind`',
    );
    expect(() => renderUnits({ ...systemOptions, serviceUser: 'Root!' })).toThrow(/`serviceUser`/);
    expect(() => renderUnits({ ...userOptions, home: '/home/me/state\nExecStartPre=/bin/evil' })).toThrow(
      /no control characters/,
    );
  });
});

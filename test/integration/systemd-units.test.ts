import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RenderOptions, renderUnits } from '../../src/systemd/index.js';

const repo = resolve(import.meta.dirname, '..', '..');
/** The exposure `systemd-analyze security` calls "OK" goes up to 4.0 (on its 0–10 scale). */
const MAX_EXPOSURE = 4.0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnimind-units-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const variants: Array<{ label: string; options: RenderOptions }> = [];
for (const mode of ['user', 'system'] as const) {
  for (const allowNetwork of [false, true]) {
    variants.push({
      label: `${mode}${allowNetwork ? ', network allowed' : ''}`,
      options: {
        mode,
        // verify checks that ExecStart's binary exists and is executable.
        nodePath: process.execPath,
        cliPath: join(repo, 'bin', 'omnimind.js'),
        children: ['memory', 'python', 'git'],
        readWritePaths: ['/home/me/project', '/home/me/data'],
        home: mode === 'user' ? '/home/me/.local/state/omnimind' : '/var/lib/omnimind',
        configFile: mode === 'user' ? '/home/me/.config/omnimind/config.json' : '/etc/omnimind/config.json',
        allowNetwork,
      },
    });
  }
}

/** Writes the rendered units, plus the socket instances the service pulls in, into a fresh directory. */
function writeUnits(options: RenderOptions): string {
  const unitDir = join(dir, options.mode);
  mkdirSync(unitDir, { recursive: true });
  for (const unit of renderUnits(options)) {
    writeFileSync(join(unitDir, unit.name), unit.text);
    if (unit.name === 'omnimind@.socket') {
      for (const child of options.children) writeFileSync(join(unitDir, `omnimind@${child}.socket`), unit.text);
    }
  }
  return unitDir;
}

describe('rendered units', () => {
  for (const { label, options } of variants) {
    it(`pass systemd-analyze verify without a single warning (${label})`, () => {
      const unitDir = writeUnits(options);
      const files = ['omnimind.service', 'omnimind@.socket', 'omnimind-control.socket'].concat(
        options.children.map((child) => `omnimind@${child}.socket`),
      );
      const runtimeDir = join(dir, 'xdg-runtime');
      mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
      const result = spawnSync(
        'systemd-analyze',
        ['verify', ...(options.mode === 'user' ? ['--user'] : []), ...files.map((file) => `./${file}`)],
        { cwd: unitDir, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    it(`reload through the CLI, which verify accepts (${label})`, () => {
      const unitDir = writeUnits(options);
      const service = readFileSync(join(unitDir, 'omnimind.service'), 'utf8');
      expect(service).toContain(`ExecReload="${options.nodePath}" "${options.cliPath}" reload\n`);
      const runtimeDir = join(dir, 'xdg-runtime');
      mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
      const result = spawnSync(
        'systemd-analyze',
        ['verify', ...(options.mode === 'user' ? ['--user'] : []), './omnimind.service'],
        { cwd: unitDir, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    it(`score "OK" (exposure <= ${MAX_EXPOSURE}) in systemd-analyze security (${label})`, () => {
      const unitDir = writeUnits(options);
      const result = spawnSync('systemd-analyze', ['security', '--offline=true', join(unitDir, 'omnimind.service')], {
        encoding: 'utf8',
      });
      expect(result.status).toBe(0);
      const match = /Overall exposure level for omnimind\.service: (\d+(?:\.\d+)?) (\w+)/.exec(result.stdout);
      expect(match).not.toBeNull();
      expect(Number(match?.[1])).toBeLessThanOrEqual(MAX_EXPOSURE);
      expect(match?.[2]).toBe('OK');
    });
  }
});

describe('socket activation', () => {
  it('serves sockets inherited from systemd-socket-activate by name, without leaking them to children', async () => {
    const memorySocket = join(dir, 'memory.sock');
    const controlSocket = join(dir, 'control.sock');
    const script = join(dir, 'serve.mts');
    writeFileSync(
      script,
      `import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { inheritedSockets } from ${JSON.stringify(join(repo, 'src', 'systemd', 'index.ts'))};
const sockets = inheritedSockets();
const probe = 'for fd in 3 4; do readlink /proc/$$/fd/$fd; done; true';
const childFds = spawnSync('sh', ['-c', probe], { encoding: 'utf8' }).stdout.split('\\n').filter(Boolean);
const childEnv = spawnSync('sh', ['-c', 'echo "\${LISTEN_FDS:-none}"'], { encoding: 'utf8' }).stdout.trim();
for (const [name, fd] of sockets) {
  net.createServer((connection) => connection.end('hello from ' + name + '\\n')).listen({ fd });
}
console.log(JSON.stringify({ sockets: [...sockets], childFds, childEnv }));
`,
    );
    const activator = spawn(
      'systemd-socket-activate',
      ['-l', memorySocket, '-l', controlSocket, '--fdname=memory:control', process.execPath, '--import', 'tsx', script],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      // The activator binds both paths, then waits for a first connection before it executes the script.
      const stderrLines = createInterface({ input: activator.stderr });
      let listening = 0;
      for await (const line of stderrLines) {
        if (line.startsWith('Listening on')) listening += 1;
        if (listening === 2) break;
      }
      const memoryReply = request(memorySocket);
      const [firstLine] = (await once(createInterface({ input: activator.stdout }), 'line')) as [string];
      const report = JSON.parse(firstLine) as {
        sockets: Array<[string, number]>;
        childFds: string[];
        childEnv: string;
      };
      expect(report.sockets).toEqual([
        ['memory', 3],
        ['control', 4],
      ]);
      // Nothing at fd 3 or 4 in a child is one of the listening sockets.
      expect(report.childFds.filter((link) => link.startsWith('socket:'))).toEqual([]);
      expect(report.childEnv).toBe('none');
      expect(await memoryReply).toBe('hello from memory\n');
      expect(await request(controlSocket)).toBe('hello from control\n');
    } finally {
      activator.kill('SIGTERM');
      await once(activator, 'close');
    }
  });
});

/** Connects to a unix socket and resolves with everything the server sent before closing. */
function request(path: string): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const connection = connect(path);
    let reply = '';
    connection.setEncoding('utf8');
    connection.on('data', (text: string) => {
      reply += text;
    });
    connection.on('end', () => resolveReply(reply));
    connection.on('error', reject);
  });
}

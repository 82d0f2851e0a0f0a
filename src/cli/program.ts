import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { CLIENT_IDS, type ClientId, ENDPOINT_NAME } from '../clients/types.js';
import { VERSION } from '../config/version.js';
import type { ClientsChangeOptions } from './commands/clients.js';
import type { CompressCommandOptions } from './commands/compress.js';
import type { InstallCommandOptions } from './commands/install.js';
import type { TokenCreateOptions } from './commands/token.js';
import type { GlobalOptions } from './context.js';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function endpointName(value: string): string {
  if (!ENDPOINT_NAME.test(value)) {
    throw new InvalidArgumentError('expected a child or profile name (letters, digits, - and _)');
  }
  return value;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * Builds the `omnimind` program; each action stores its exit code in `setExitCode`. Commands are loaded when run, so
 * `omnimind status` does not pay for the supervisor, the compressor's token tables or SQLite.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('omnimind')
    .description('Supervise a fleet of MCP servers and serve them through one shared cache and limiter')
    .version(VERSION)
    .option('--config <file>', 'config file (default: $OMNIMIND_CONFIG or ~/.config/omnimind/config.json)')
    .option('--debug', 'print stack traces and debug logs')
    .showHelpAfterError()
    // Set before the subcommands are added so they inherit it: usage errors become exit code 2, not process.exit(1).
    .exitOverride();
  const global = (command: Command): GlobalOptions => command.optsWithGlobals();
  const run = (fn: () => Promise<number>) => fn().then(setExitCode);

  program
    .command('start [children...]')
    .description('start the supervisor in the background (or named children in the running one)')
    .option('--foreground', 'run the supervisor attached, logging to stderr')
    .action((children: string[], opts: { foreground?: boolean }, cmd: Command) =>
      run(async () =>
        opts.foreground
          ? (await import('./commands/foreground.js')).runForeground(global(cmd))
          : (await import('./commands/lifecycle.js')).startCommand(children, global(cmd)),
      ),
    );
  program
    .command('stop [children...]')
    .description('stop named children, or every child and the supervisor')
    .option('--timeout <seconds>', 'escalate to SIGKILL after this long', positiveNumber)
    .action((children: string[], _opts, cmd: Command) =>
      run(async () => (await import('./commands/lifecycle.js')).stopCommand(children, global(cmd))),
    );
  program
    .command('restart [children...]')
    .description('stop then start named children, or the supervisor')
    .option('--timeout <seconds>', 'escalate to SIGKILL after this long', positiveNumber)
    .action((children: string[], _opts, cmd: Command) =>
      run(async () => (await import('./commands/lifecycle.js')).restartCommand(children, global(cmd))),
    );
  program
    .command('reload')
    .description('re-read the config and apply it without disturbing what did not change (also SIGHUP)')
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/reload.js')).reloadCommand(global(cmd))),
    );
  program
    .command('status [children...]')
    .description('show children, sockets, traffic, cache and limiter')
    .addOption(new Option('--json', 'print the status document as JSON').conflicts('watch'))
    .option('--watch', 'redraw the table every second with request rates (q or Ctrl-C quits)')
    .action((children: string[], opts: { watch?: boolean }, cmd: Command) =>
      run(async () =>
        opts.watch
          ? (await import('./commands/status-watch.js')).statusWatchCommand(children, global(cmd))
          : (await import('./commands/lifecycle.js')).statusCommand(children, global(cmd)),
      ),
    );
  program
    .command('metrics')
    .description('print the Prometheus text exposition of the running supervisor')
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/metrics.js')).metricsCommand(global(cmd))),
    );
  program
    .command('logs [child]')
    .description("print the supervisor's or a child's log")
    .addOption(new Option('-n, --lines <n>', 'how many lines').default(50).argParser(positiveInteger))
    .option('-f, --follow', 'keep printing new lines')
    .option('--json', 'one JSON object per line')
    .action((child: string | undefined, _opts, cmd: Command) =>
      run(async () =>
        (await import('./commands/logs.js')).logsCommand(child, global(cmd) as GlobalOptions & { lines: number }),
      ),
    );
  program
    .command('connect')
    .description("bridge stdin/stdout to an endpoint's socket (use as an MCP client's command)")
    .addArgument(
      new Argument('[endpoint]', 'a child or profile')
        .default('omnimind', 'the omnimind profile')
        .argParser(endpointName),
    )
    .action((endpoint: string, _opts, cmd: Command) =>
      run(async () => (await import('./commands/connect.js')).connectCommand(endpoint, global(cmd))),
    );
  const clients = program
    .command('clients')
    .description('find the MCP clients on this machine and write omnimind into their config files');
  clients
    .command('list', { isDefault: true })
    .description('the supported clients, which are found here, and the omnimind endpoints each is configured with')
    .option('--json', 'print the report as JSON')
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/clients.js')).clientsListCommand(global(cmd))),
    );
  for (const [verb, description] of [
    ['add', "write the entry into the client's own config file (a backup first; idempotent)"],
    ['remove', "remove the entry from the client's config file"],
  ] as const) {
    clients
      .command(verb)
      .description(description)
      .addArgument(new Argument('<client>', 'the client').choices(CLIENT_IDS))
      .addOption(new Option('--endpoint <name>', 'a child or profile').default('omnimind').argParser(endpointName))
      .addOption(
        new Option('--scope <scope>', "the user's config or the project's (here)")
          .choices(['user', 'project'])
          .default('user'),
      )
      .option('--dry-run', 'print the change as a unified diff and write nothing')
      .action((client: ClientId, _opts, cmd: Command) =>
        run(async () => {
          const commands = await import('./commands/clients.js');
          const options = global(cmd) as ClientsChangeOptions;
          return verb === 'add'
            ? commands.clientsAddCommand(client, options)
            : commands.clientsRemoveCommand(client, options);
        }),
      );
  }
  program
    .command('tools <child>')
    .description("list a child's tools")
    .option('--json', 'print the tool definitions as JSON')
    .action((child: string, _opts, cmd: Command) =>
      run(async () => (await import('./commands/tools.js')).toolsCommand(child, global(cmd))),
    );
  program
    .command('call <child> <tool> [json]')
    .description('call one tool with JSON arguments (- reads them from stdin) and print its result')
    .option('--json', 'print the whole result as JSON')
    .action((child: string, tool: string, json: string | undefined, _opts, cmd: Command) =>
      run(async () => (await import('./commands/tools.js')).callCommand(child, tool, json, global(cmd))),
    );
  program
    .command('compress [file]')
    .description('compress a context (a file, or - for stdin) to a token budget, keeping every critical span')
    .requiredOption('--target-tokens <n>', 'the token budget (o200k tokens)', positiveInteger)
    .option('--query <text>', 'favour content relevant to this text')
    .option('--json', 'print the output and the statistics as JSON')
    .action((file: string | undefined, _opts, cmd: Command) =>
      run(async () =>
        (await import('./commands/compress.js')).compressCommand(file, global(cmd) as CompressCommandOptions),
      ),
    );
  program
    .command('config')
    .description('print the effective config, or validate it')
    .option('--check', 'validate and list every problem')
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/config.js')).configCommand(global(cmd))),
    );
  program
    .command('install')
    .description('write the systemd units for this installation, reload systemd and enable them')
    .addOption(new Option('--user', 'user units in ~/.config/systemd/user (default)').conflicts('system'))
    .option('--system', 'system units in /etc/systemd/system, run as the omnimind account')
    .option('--dry-run', 'print the units and commands without writing or running anything')
    .option('--no-enable', 'write the units and reload systemd, but do not enable or start them')
    .addOption(new Option('--root <dir>', 'write under this prefix (image builds)').hideHelp())
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/install.js')).installCommand(global(cmd) as InstallCommandOptions)),
    );
  program
    .command('uninstall')
    .description('stop, disable and remove the systemd units (state and config are kept)')
    .addOption(new Option('--user', 'user units (default)').conflicts('system'))
    .option('--system', 'system units')
    .option('--dry-run', 'print what would be removed')
    .addOption(new Option('--root <dir>', 'remove under this prefix').hideHelp())
    .action((_opts, cmd: Command) =>
      run(async () => (await import('./commands/install.js')).uninstallCommand(global(cmd) as InstallCommandOptions)),
    );
  const memory = program
    .command('memory')
    .description("move a knowledge graph in or out (the reference server's JSONL)");
  memory
    .command('import <file>')
    .description(
      'merge a JSONL graph (from @modelcontextprotocol/server-memory) into the memory child, in one transaction',
    )
    .action((file: string, _opts, cmd: Command) =>
      run(async () => (await import('./commands/memory.js')).memoryTransferCommand('import', file, global(cmd))),
    );
  memory
    .command('export <file>')
    .description('write the memory graph as JSONL that @modelcontextprotocol/server-memory reads')
    .action((file: string, _opts, cmd: Command) =>
      run(async () => (await import('./commands/memory.js')).memoryTransferCommand('export', file, global(cmd))),
    );
  const cache = program.command('cache').description('manage the shared cache');
  cache
    .command('clear [child]')
    .description('drop cached answers of one child, or all')
    .action((child: string | undefined, _opts, cmd: Command) =>
      run(async () => (await import('./commands/cache.js')).cacheClearCommand(child, global(cmd))),
    );
  const token = program.command('token').description('bearer tokens for the HTTP front');
  token
    .command('create <name>')
    .description('create a token; its secret is printed once, alone on stdout')
    .option('--endpoint <endpoint>', 'limit it to an endpoint (repeatable; default: every endpoint)', collect, [])
    .option('--metrics', 'let it read GET /metrics and the dashboard (a token without --endpoint may already)')
    .option('--expires <days>', 'refuse it after this many days', positiveNumber)
    .action((name: string, _opts, cmd: Command) =>
      run(async () =>
        (await import('./commands/token.js')).tokenCreateCommand(name, global(cmd) as TokenCreateOptions),
      ),
    );
  token
    .command('list')
    .description('list tokens (names, endpoints, expiry; never secrets)')
    .option('--json', 'machine-readable output')
    .action((_opts, cmd: Command) =>
      run(async () =>
        (await import('./commands/token.js')).tokenListCommand(global(cmd) as GlobalOptions & { json?: boolean }),
      ),
    );
  token
    .command('revoke <name>')
    .description('revoke a token at once')
    .action((name: string, _opts, cmd: Command) =>
      run(async () => (await import('./commands/token.js')).tokenRevokeCommand(name, global(cmd))),
    );
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

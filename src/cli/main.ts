import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

/** Exit code for a usage error (CONTRACT.md). */
const USAGE_EXIT_CODE = 2;

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return USAGE_EXIT_CODE;
    }
    // Loaded only here: a command that succeeds (`omnimind compress`) never pays for chalk or the protocol module.
    const [{ OmnimindError }, { errorColor }] = await Promise.all([
      import('../protocol/index.js'),
      import('./output.js'),
    ]);
    const debug = argv.includes('--debug');
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${errorColor.red('omnimind:')} ${message}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    if (!(error instanceof OmnimindError) && !debug) process.stderr.write('Run again with --debug for details.\n');
    return error instanceof OmnimindError ? error.exitCode : 1;
  }
}

// A reader that goes away (`omnimind logs | head`) ends the output, not the program with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv);

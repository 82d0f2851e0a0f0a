import { BUILTIN_CHILDREN, loadConfig, resolveChildSpecs } from '../../config/index.js';
import { type GlobalOptions, pathsFor } from '../context.js';

/** `omnimind config [--check]`: print the effective config, or validate it and list every problem. */
export async function configCommand(options: GlobalOptions & { check?: boolean }): Promise<number> {
  const paths = pathsFor(options);
  const loaded = loadConfig(paths.configFile);
  if (loaded.problems.length > 0) {
    process.stderr.write(`${paths.configFile} has ${loaded.problems.length} problem(s):\n`);
    for (const p of loaded.problems) process.stderr.write(`  ${p.path}: ${p.message} (${p.hint})\n`);
    return 1;
  }
  if (options.check) {
    process.stdout.write(`${paths.configFile}: ${loaded.exists ? 'valid' : 'not found; the defaults apply'}\n`);
    return 0;
  }
  const specs = resolveChildSpecs(loaded.config, paths, process.cwd());
  const effective = {
    file: paths.configFile,
    home: paths.home,
    runtimeDir: paths.runtimeDir,
    builtins: BUILTIN_CHILDREN,
    children: Object.fromEntries(
      specs.map((s) => [
        s.name,
        { enabled: s.enabled, builtin: s.builtin, command: s.command, args: s.args, cwd: s.cwd, options: s.options },
      ]),
    ),
    cache: loaded.config.cache ?? {},
    limiter: loaded.config.limiter ?? {},
  };
  process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
  return 0;
}

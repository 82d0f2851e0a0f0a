import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The options section the supervisor passed to this built-in child (`OMNIMIND_CHILD_CONFIG`). */
export function readChildConfig<T extends object>(env: NodeJS.ProcessEnv = process.env): Partial<T> {
  const raw = env.OMNIMIND_CHILD_CONFIG;
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' ? (value as Partial<T>) : {};
  } catch {
    return {};
  }
}

/**
 * Runs a child's start-up (no top-level await, so that the child can be bundled as one CommonJS file that V8's code
 * cache can serve). A failure is written to stderr and ends the process with exit code 1, as an uncaught error would.
 */
export function startChild(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    process.stderr.write(
      `omnimind ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}

/** The directory where this child keeps its stores, created 0700 if missing. */
export function childDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.OMNIMIND_DATA_DIR ?? join(env.OMNIMIND_HOME ?? join(process.cwd(), '.omnimind'), 'data');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_CHILDREN } from '../config/index.js';

/**
 * Build step (after tsc, which rewrites every main.js): bundles each built-in child's compiled program with what it
 * imports (the MCP SDK, zod, ajv: about 200 files) into its main.js. Node 20's ESM loader spends most of a child's
 * start-up on loading those files one by one; one file starts with about 40% less CPU (BENCHMARKS.md, supervisor
 * section). better-sqlite3 stays outside (a native addon). Without esbuild (installed with the dev dependency tsx)
 * the programs stay as tsc wrote them, which run the same, only slower to start.
 */
const childrenDir = dirname(fileURLToPath(import.meta.url));

let esbuild: typeof import('esbuild');
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('esbuild is not installed: the built-in children stay unbundled\n');
  process.exit(0);
}

await Promise.all(
  BUILTIN_CHILDREN.map((name) => {
    const main = join(childrenDir, name, 'main.js');
    return esbuild.build({
      entryPoints: [main],
      outfile: main,
      allowOverwrite: true,
      bundle: true,
      minify: true,
      sourcemap: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Left outside, and marked free of side effects so that a child that opens no database never loads it.
      plugins: [
        {
          name: 'native-addons',
          setup: (build) =>
            build.onResolve({ filter: /^better-sqlite3$/ }, (args) => ({
              path: args.path,
              external: true,
              sideEffects: false,
            })),
        },
      ],
      // CommonJS code in the bundle (ajv) may require a Node builtin: give the ESM bundle a real `require`.
      banner: {
        js: "import { createRequire as __omnimindRequire } from 'node:module'; const require = __omnimindRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
  }),
);

// The compressor reads its rank table next to its own module, which in the context child's bundle is main.js.
const ranks = join(childrenDir, '..', 'compress', 'o200k-ranks.bin');
if (existsSync(ranks)) copyFileSync(ranks, join(childrenDir, 'context', 'o200k-ranks.bin'));

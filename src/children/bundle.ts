import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_CHILDREN } from '../config/index.js';

/**
 * Build step (after tsc, which writes each child's main.js): bundles each built-in child's compiled program with what
 * it imports (the MCP SDK, zod, ajv: about 200 files) into one CommonJS file, bundle.cjs, started by main.cjs.
 * Node 20's ESM loader spends most of a child's start-up loading those files one by one; one file starts with about
 * 40% less CPU. main.cjs compiles the bundle from V8's code cache when there is one (Node 20 has no module compile
 * cache), which takes about a third off again (BENCHMARKS.md, supervisor section). better-sqlite3 stays outside (a
 * native addon). Without esbuild (installed with the dev dependency tsx) the children run from main.js as tsc wrote
 * it: the same programs, only slower to start.
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
  BUILTIN_CHILDREN.map(async (name) => {
    const dir = join(childrenDir, name);
    const bundle = join(dir, 'bundle.cjs');
    await esbuild.build({
      entryPoints: [join(dir, 'main.js')],
      outfile: bundle,
      bundle: true,
      minify: true,
      sourcemap: true,
      platform: 'node',
      format: 'cjs',
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
      // Modules find files beside themselves (the sqlite query runner, the tokenizer's rank table) by import.meta.url.
      banner: { js: "'use strict';const __omnimindUrl=require('node:url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__omnimindUrl' },
      logLevel: 'warning',
    });
    const hash = createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 16);
    writeFileSync(join(dir, 'main.cjs'), starter(name, hash));
  }),
);

// The compressor reads its rank table next to its own module, which in the context child's bundle is bundle.cjs.
const ranks = join(childrenDir, '..', 'compress', 'o200k-ranks.bin');
if (existsSync(ranks)) copyFileSync(ranks, join(childrenDir, 'context', 'o200k-ranks.bin'));

/**
 * main.cjs: runs bundle.cjs, compiled from the code cache in $OMNIMIND_HOME/code-cache when it is whole and matches
 * this bundle, this Node and these flags (V8 rejects any other), and writes the cache once start-up has compiled what
 * it needs.
 */
function starter(name: string, hash: string): string {
  return `'use strict';
// Written by the build (src/children/bundle.ts): starts the ${name} child from bundle.cjs through V8's code cache.
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'bundle.cjs');
const cacheDir = process.env.OMNIMIND_HOME ? join(process.env.OMNIMIND_HOME, 'code-cache') : undefined;
const cacheName = \`${name}-${hash}-\${process.version}-\${process.arch}.bin\`;
// V8 checks a cache's version, flags and source length, not its bytes: a damaged one would crash the child. Each
// cache file starts with the SHA-256 of the rest, and one that does not match is compiled past and written anew.
let cachedData;
try {
  const file = cacheDir ? readFileSync(join(cacheDir, cacheName)) : undefined;
  if (file && file.length > 32 && sha256(file.subarray(32)).equals(file.subarray(0, 32))) cachedData = file.subarray(32);
} catch {}
const source = \`(function (exports, require, module, __filename, __dirname) {\${readFileSync(bundle, 'utf8')}\\n})\`;
const script = new Script(source, { filename: bundle, cachedData });
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, createRequire(bundle), bundleModule, bundle, __dirname);
let written = false;
if (cacheDir && (cachedData === undefined || script.cachedDataRejected)) {
  // A second after start-up, or at exit if that comes first, the cache also holds what start-up compiled.
  setTimeout(writeCache, 1000).unref();
  process.once('exit', writeCache);
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest();
}

function writeCache() {
  if (written) return;
  written = true;
  const data = script.createCachedData();
  const temporary = join(cacheDir, \`\${cacheName}.\${process.pid}.tmp\`);
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, Buffer.concat([sha256(data), data]), { mode: 0o600 });
    renameSync(temporary, join(cacheDir, cacheName));
    for (const file of readdirSync(cacheDir)) {
      if (file.startsWith('${name}-') && file.endsWith('.bin') && file !== cacheName) rmSync(join(cacheDir, file), { force: true });
    }
  } catch (error) {
    rmSync(temporary, { force: true });
    process.stderr.write(\`omnimind ${name}: code cache not written (\${error.message}); the next start compiles again\\n\`);
  }
}
`;
}

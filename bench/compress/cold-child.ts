import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// A fresh process's first compress() call. Module load and the first (JIT-cold) call are timed apart,
// in wall time and in this process's CPU time (which a busy machine inflates less).
const [modulePath, inputPath, target] = process.argv.slice(2);
const input = readFileSync(inputPath ?? '', 'utf8');
const loadStarted = performance.now();
const { compress } = (await import(
  pathToFileURL(modulePath ?? '').href
)) as typeof import('../../src/compress/index.js');
const loaded = performance.now();
const cpuBefore = process.cpuUsage();
const result = compress(input, { targetTokens: Number(target) });
const called = performance.now();
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({
    loadMs: loaded - loadStarted,
    firstCallMs: called - loaded,
    firstCallCpuMs: (cpu.user + cpu.system) / 1000,
    tokensIn: result.tokensIn,
    overflow: result.overflow,
  })}\n`,
);

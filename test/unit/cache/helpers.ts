import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheOutcome, ToolInfo } from '../../../src/cache/index.js';

/** Makes a temp dir for one test; call the returned function to remove it. */
export function makeTempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'omnimind-cache-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A controllable clock in ms. */
export function makeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

/** Tool list of the memory-like fake child: one read-only tool, one writing tool, one open-world read. */
export const MEMORY_TOOLS: ToolInfo[] = [
  { name: 'read_graph', annotations: { readOnlyHint: true, openWorldHint: false } },
  { name: 'search_nodes', annotations: { readOnlyHint: true, openWorldHint: false } },
  { name: 'create_entities', annotations: { readOnlyHint: false, destructiveHint: false } },
  { name: 'fetch_url', annotations: { readOnlyHint: true, openWorldHint: true } },
];

/** The JSON text of a tools/call result holding one text block. */
export function textResult(text: string, isError = false): string {
  return JSON.stringify({ content: [{ type: 'text', text }], ...(isError ? { isError: true } : {}) });
}

/**
 * A memory-like fake child: `read_graph` returns the stored entities, `create_entities` adds one. `loadFor` builds
 * the gateway's load function for one request and counts calls per tool.
 */
export class FakeMemoryChild {
  readonly entities: string[] = [];
  readonly calls = new Map<string, number>();

  /** The loader the gateway would pass to `fetch` for a tools/call of `tool` with `args`. */
  loadFor(tool: string, args: Record<string, unknown> = {}): () => Promise<CacheOutcome> {
    return async () => {
      this.calls.set(tool, (this.calls.get(tool) ?? 0) + 1);
      if (tool === 'create_entities') {
        this.entities.push(String(args.name));
        return { kind: 'result', json: textResult(`created ${String(args.name)}`) };
      }
      return { kind: 'result', json: textResult(this.entities.join(',')) };
    };
  }

  /** How often a tool was really called. */
  count(tool: string): number {
    return this.calls.get(tool) ?? 0;
  }
}

/** A promise whose resolution the test controls. */
export function makeDeferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Waits until queued L2 writes (flushed on setImmediate) have run. */
export function waitForFlush(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

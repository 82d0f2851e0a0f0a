/** Lines of unchanged context around each change, as `diff -u` prints. */
const CONTEXT_LINES = 3;
/** Above this many line pairs the changed middle is shown as removed then added instead of aligned (memory bound). */
const MAX_ALIGNED_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script between two runs of lines, by longest common subsequence. */
function align(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_ALIGNED_CELLS) {
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  }
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] ?? '' });
      j++;
    } else if (i < a.length && (j === b.length || (lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0))) {
      ops.push({ kind: '-', line: a[i++] ?? '' });
    } else {
      ops.push({ kind: '+', line: b[j++] ?? '' });
    }
  }
  return ops;
}

/** A unified diff of `before` → `after` as `diff -u` prints it (empty when they are equal); `before` undefined is a new file. */
export function unifiedDiff(before: string | undefined, after: string, file: string): string {
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after);
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  const ops: Op[] = [
    ...a.slice(0, prefix).map((line) => ({ kind: ' ' as const, line })),
    ...align(a.slice(prefix, a.length - suffix), b.slice(prefix, b.length - suffix)),
    ...a.slice(a.length - suffix).map((line) => ({ kind: ' ' as const, line })),
  ];
  const out = [`--- ${before === undefined ? '/dev/null' : file}`, `+++ ${file}`];
  const changed = ops.flatMap((op, index) => (op.kind === ' ' ? [] : [index]));
  let g = 0;
  while (g < changed.length) {
    let last = g;
    while (last + 1 < changed.length && (changed[last + 1] ?? 0) - (changed[last] ?? 0) <= 2 * CONTEXT_LINES + 1)
      last++;
    const start = Math.max(0, (changed[g] ?? 0) - CONTEXT_LINES);
    const end = Math.min(ops.length, (changed[last] ?? 0) + 1 + CONTEXT_LINES);
    const count = (from: number, to: number, kind: '-' | '+') =>
      ops.slice(from, to).filter((op) => op.kind === ' ' || op.kind === kind).length;
    const oldBefore = count(0, start, '-');
    const newBefore = count(0, start, '+');
    const oldLength = count(start, end, '-');
    const newLength = count(start, end, '+');
    out.push(
      `@@ -${oldLength === 0 ? oldBefore : oldBefore + 1},${oldLength} +${newLength === 0 ? newBefore : newBefore + 1},${newLength} @@`,
      ...ops.slice(start, end).map((op) => `${op.kind}${op.line.replace(/\r$/, '')}`),
    );
    g = last + 1;
  }
  return `${out.join('\n')}\n`;
}

const PYTHON_START = /^\s*Traceback \(most recent call last\):/;
const PYTHON_CHAIN = /^(?:During handling of the above exception|The above exception was the direct cause)/;
const FRAME_AT = /^\s+at\s+\S/;
const JVM_CONTINUATION = /^\s+(?:at\s+\S|\.\.\.\s*\d+\s+more)|^\s*Caused by:/;
const GO_START = /^(?:panic: |fatal error: )/;
const GO_LINE = /^(?:goroutine \d+|\[signal |created by |exit status \d|panic\(|\[recovered\]|\s+\S|\S+\(.*\)\s*$)/;
const GO_GOROUTINE = /^goroutine \d+ \[/;
const RUST_ERROR_START = /^error(?:\[E\d{4}\])?: /;
const RUST_DIAGNOSTIC_LINE = /^\s*(?:-->|\||\d+\s*\||=\s)|^\s+\S/;
const RUST_PANIC_START = /^thread '[^']*' panicked at/;

/**
 * A frame of a stack trace in any language: an indented or numbered line naming a source file with a line
 * number (`  at X in /src/A.cs:line 88`, `\tfrom app/x.rb:42:in 'f'`, `#0 /var/www/Repo.php(88): f()`,
 * `    (app 0.4.1) lib/app.ex:31: App.run/2`), or PHP's `#2 {main}`.
 */
const FRAME_LINE = /^(?:\s+|#\d+\s)(?:.*?[\w-]\.[A-Za-z]\w{0,5}(?::\d+|\(\d+\)|:line \d+)|\{main\})/;
/** A "Stack trace:" line between an error and its frames (PHP, .NET). */
const FRAME_HEADING = /^\s*Stack ?trace:?\s*$/i;
/** The first two lines of a unified diff: `--- a/file` then `+++ b/file`, or a `diff --git` line. */
const DIFF_OLD = /^(?:diff --git |--- \S)/;
const DIFF_NEW = /^(?:\+\+\+ \S|--- \S|index [0-9a-f])/;
const DIFF_LINE = /^(?:[ +\-\\]|@@ |diff |index |new file|deleted file|similarity |rename )/;

/** First line of a stack trace or multi-line compiler error, as tested before joining prose lines. */
export const TRACE_START =
  /^(?:\s*Traceback \(most recent call last\):|panic: |fatal error: |error(?:\[E\d{4}\])?: |thread '[^']*' panicked at)/;

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim().length === 0;
}

/**
 * If a stack trace or compiler diagnostic starts at line `i`, the index of its last line; otherwise -1.
 * Recognises Python tracebacks (with chained exceptions), JS/JVM errors followed by `at …` frames,
 * Go panics with goroutine dumps, Rust `error[E…]` diagnostics and Rust panics.
 */
export function matchTrace(lines: readonly string[], i: number): number {
  const line = lines[i] ?? '';
  const next = lines[i + 1] ?? '';
  // Cheap gates on the first character keep the per-line cost low: most lines start none of these.
  const nextCode = next.charCodeAt(0);
  if ((nextCode === 32 || nextCode === 9) && FRAME_AT.test(next) && !isBlank(line)) return matchFrames(lines, i + 1);
  const known = matchKnownTrace(lines, i, line);
  if (known >= 0 || isBlank(line)) return known;
  if ((nextCode === 32 || nextCode === 9 || nextCode === 35 || nextCode === 83) && startsFrames(lines, i + 1)) {
    let j = i + 1;
    while (j + 1 < lines.length && (FRAME_LINE.test(lines[j + 1]!) || FRAME_HEADING.test(lines[j + 1]!))) j++;
    return j;
  }
  return -1;
}

/**
 * If a unified diff starts at line `i`, the index of its last line (it runs to the first line that is not part
 * of a hunk); otherwise -1.
 */
export function matchDiff(lines: readonly string[], i: number): number {
  const line = lines[i] ?? '';
  if (!DIFF_OLD.test(line) || !DIFF_NEW.test(lines[i + 1] ?? '')) return -1;
  let j = i + 1;
  while (j + 1 < lines.length && !isBlank(lines[j + 1]) && DIFF_LINE.test(lines[j + 1]!)) j++;
  return j;
}

function startsFrames(lines: readonly string[], at: number): boolean {
  const first = lines[at] ?? '';
  if (FRAME_LINE.test(first)) return true;
  return FRAME_HEADING.test(first) && FRAME_LINE.test(lines[at + 1] ?? '');
}

function matchKnownTrace(lines: readonly string[], i: number, line: string): number {
  switch (line.charCodeAt(0)) {
    case 32:
    case 9:
    case 84: // T
      return PYTHON_START.test(line) ? matchPython(lines, i) : -1;
    case 112: // p
    case 102: // f
      return GO_START.test(line) ? matchGo(lines, i) : -1;
    case 101: // e
      return RUST_ERROR_START.test(line) ? matchWhile(lines, i, RUST_DIAGNOSTIC_LINE) : -1;
    case 116: // t
      return RUST_PANIC_START.test(line) ? matchUntilBlank(lines, i) : -1;
    default:
      return -1;
  }
}

function matchPython(lines: readonly string[], start: number): number {
  let j = start + 1;
  while (j < lines.length && /^\s/.test(lines[j] ?? '') && !isBlank(lines[j])) j++;
  // The exception line itself (`ValueError: …`) closes the traceback.
  let last = j < lines.length && !isBlank(lines[j]) ? j : j - 1;
  let next = last + 1;
  while (isBlank(lines[next]) && next < lines.length) next++;
  if (PYTHON_CHAIN.test(lines[next] ?? '')) {
    let after = next + 1;
    while (isBlank(lines[after]) && after < lines.length) after++;
    if (PYTHON_START.test(lines[after] ?? '')) last = matchPython(lines, after);
    else last = next;
  }
  return last;
}

function matchFrames(lines: readonly string[], firstFrame: number): number {
  let j = firstFrame;
  while (j + 1 < lines.length && JVM_CONTINUATION.test(lines[j + 1] ?? '')) j++;
  return j;
}

function matchGo(lines: readonly string[], start: number): number {
  let last = start;
  let j = start + 1;
  while (j < lines.length) {
    const line = lines[j] ?? '';
    if (isBlank(line)) {
      let k = j + 1;
      while (k < lines.length && isBlank(lines[k])) k++;
      if (!GO_GOROUTINE.test(lines[k] ?? '')) break;
      j = k;
      continue;
    }
    if (!GO_LINE.test(line)) break;
    last = j;
    j++;
  }
  return last;
}

function matchWhile(lines: readonly string[], start: number, pattern: RegExp): number {
  let j = start;
  while (j + 1 < lines.length && !isBlank(lines[j + 1]) && pattern.test(lines[j + 1] ?? '')) j++;
  return j;
}

function matchUntilBlank(lines: readonly string[], start: number): number {
  let j = start;
  while (j + 1 < lines.length && !isBlank(lines[j + 1])) j++;
  return j;
}

import { MAX_DIFF_CHARS } from './limits.js';
import { createUnifiedPatch } from './unified-diff.js';

/** One edit_file replacement: the first occurrence of `oldText` becomes `newText`. */
export interface TextEdit {
  oldText: string;
  newText: string;
}

/** Turns CRLF line endings into LF, as edit_file compares and writes text with LF. */
export function normalizeLineEndings(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

/**
 * Applies edits in order, each to the result of the previous one: an exact match first, else a match line by line
 * ignoring leading and trailing whitespace, re-indented like the matched lines. Throws naming the edit that matched
 * nothing.
 */
export function applyTextEdits(content: string, edits: readonly TextEdit[]): string {
  let modified = normalizeLineEndings(content);
  for (const edit of edits) {
    const oldText = normalizeLineEndings(edit.oldText);
    const newText = normalizeLineEndings(edit.newText);
    if (oldText === '') {
      throw new Error('Each edit needs a non-empty oldText: an empty one would match anywhere');
    }
    if (modified.includes(oldText)) {
      modified = modified.replace(oldText, () => newText);
      continue;
    }
    const replaced = replaceIgnoringIndentation(modified, oldText, newText);
    if (replaced === undefined) throw new Error(`Could not find exact match for edit:\n${edit.oldText}`);
    modified = replaced;
  }
  return modified;
}

function leadingWhitespace(line: string | undefined): string {
  return line?.match(/^\s*/)?.[0] ?? '';
}

function replaceIgnoringIndentation(content: string, oldText: string, newText: string): string | undefined {
  const oldLines = oldText.split('\n');
  const contentLines = content.split('\n');
  for (let i = 0; i <= contentLines.length - oldLines.length; i++) {
    const matches = oldLines.every((oldLine, j) => oldLine.trim() === contentLines[i + j]!.trim());
    if (!matches) continue;
    const originalIndent = leadingWhitespace(contentLines[i]);
    const newLines = newText.split('\n').map((line, j) => {
      if (j === 0) return originalIndent + line.trimStart();
      const oldIndent = leadingWhitespace(oldLines[j]);
      const newIndent = leadingWhitespace(line);
      if (oldIndent && newIndent) {
        return originalIndent + ' '.repeat(Math.max(0, newIndent.length - oldIndent.length)) + line.trimStart();
      }
      return line;
    });
    contentLines.splice(i, oldLines.length, ...newLines);
    return contentLines.join('\n');
  }
  return undefined;
}

/**
 * The diff edit_file shows: a unified diff fenced with enough backticks that none inside can close the fence, cut
 * at a line boundary past `maxChars` with a line saying how much was left out.
 */
export function formatEditDiff(
  filePath: string,
  original: string,
  modified: string,
  maxChars = MAX_DIFF_CHARS,
): string {
  let diff = createUnifiedPatch(
    filePath,
    normalizeLineEndings(original),
    normalizeLineEndings(modified),
    'original',
    'modified',
  );
  if (diff.length > maxChars) {
    const cut = diff.lastIndexOf('\n', maxChars) + 1;
    diff = `${diff.slice(0, cut)}[diff truncated: ${diff.length - cut} more characters not shown]\n`;
  }
  let fence = '```';
  while (diff.includes(fence)) fence += '`';
  return `${fence}diff\n${diff}${fence}\n\n`;
}

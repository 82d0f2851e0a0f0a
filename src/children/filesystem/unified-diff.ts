import { MAX_DIFF_EDIT_LENGTH } from './limits.js';

/** A run of lines that are common to both texts, only in the old one (removed) or only in the new one (added). */
export interface LineChange {
  lines: string[];
  added: boolean;
  removed: boolean;
}

interface Component {
  count: number;
  added: boolean;
  removed: boolean;
  previous: Component | undefined;
}

interface PathState {
  oldPos: number;
  last: Component | undefined;
}

/** Lines of a text, each keeping its `\n` (the last one may lack it), as diff tokens. */
function splitLineTokens(text: string): string[] {
  const parts = text.split(/(\n|\r\n)/);
  if (parts[parts.length - 1] === '') parts.pop();
  const tokens: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 1) tokens[tokens.length - 1] += parts[i]!;
    else tokens.push(parts[i]!);
  }
  return tokens.filter((token) => token !== '');
}

/**
 * The shortest line edit script from `oldText` to `newText` (Myers' O(ND) algorithm, with the same tie-breaking as
 * jsdiff, so results match the reference server's). Past `maxEditLength` edits it falls back to one replaced block
 * between the common prefix and suffix, which is still a correct (if longer) script.
 */
export function diffLines(oldText: string, newText: string, maxEditLength = MAX_DIFF_EDIT_LENGTH): LineChange[] {
  const oldTokens = splitLineTokens(oldText);
  const newTokens = splitLineTokens(newText);
  return diffTokens(oldTokens, newTokens, maxEditLength) ?? diffAsBlock(oldTokens, newTokens);
}

function diffTokens(oldTokens: string[], newTokens: string[], maxEditLength: number): LineChange[] | undefined {
  const oldLen = oldTokens.length;
  const newLen = newTokens.length;
  const offset = newLen + 1;
  const bestPath: (PathState | undefined)[] = new Array(oldLen + newLen + 3);
  const seed: PathState = { oldPos: -1, last: undefined };
  bestPath[offset] = seed;
  let newPos = extractCommon(seed, newTokens, oldTokens, 0);
  if (seed.oldPos + 1 >= oldLen && newPos + 1 >= newLen) return buildChanges(seed.last, oldTokens, newTokens);
  let minDiagonal = Number.NEGATIVE_INFINITY;
  let maxDiagonal = Number.POSITIVE_INFINITY;
  const limit = Math.min(maxEditLength, oldLen + newLen);
  for (let editLength = 1; editLength <= limit; editLength++) {
    for (
      let diagonal = Math.max(minDiagonal, -editLength);
      diagonal <= Math.min(maxDiagonal, editLength);
      diagonal += 2
    ) {
      const removePath = bestPath[offset + diagonal - 1];
      const addPath = bestPath[offset + diagonal + 1];
      if (removePath) bestPath[offset + diagonal - 1] = undefined;
      let canAdd = false;
      if (addPath) {
        const addPathNewPos = addPath.oldPos - diagonal;
        canAdd = addPathNewPos >= 0 && addPathNewPos < newLen;
      }
      const canRemove = removePath !== undefined && removePath.oldPos + 1 < oldLen;
      if (!canAdd && !canRemove) {
        bestPath[offset + diagonal] = undefined;
        continue;
      }
      const base =
        !canRemove || (canAdd && removePath.oldPos < addPath!.oldPos)
          ? extendPath(addPath!, true, false, 0)
          : extendPath(removePath, false, true, 1);
      newPos = extractCommon(base, newTokens, oldTokens, diagonal);
      if (base.oldPos + 1 >= oldLen && newPos + 1 >= newLen) return buildChanges(base.last, oldTokens, newTokens);
      bestPath[offset + diagonal] = base;
      if (base.oldPos + 1 >= oldLen) maxDiagonal = Math.min(maxDiagonal, diagonal - 1);
      if (newPos + 1 >= newLen) minDiagonal = Math.max(minDiagonal, diagonal + 1);
    }
  }
  return undefined;
}

function extendPath(path: PathState, added: boolean, removed: boolean, oldPosInc: number): PathState {
  const last = path.last;
  if (last && last.added === added && last.removed === removed) {
    return {
      oldPos: path.oldPos + oldPosInc,
      last: { count: last.count + 1, added, removed, previous: last.previous },
    };
  }
  return { oldPos: path.oldPos + oldPosInc, last: { count: 1, added, removed, previous: last } };
}

function extractCommon(path: PathState, newTokens: string[], oldTokens: string[], diagonal: number): number {
  let oldPos = path.oldPos;
  let newPos = oldPos - diagonal;
  let common = 0;
  while (
    newPos + 1 < newTokens.length &&
    oldPos + 1 < oldTokens.length &&
    oldTokens[oldPos + 1] === newTokens[newPos + 1]
  ) {
    newPos++;
    oldPos++;
    common++;
  }
  if (common > 0) path.last = { count: common, added: false, removed: false, previous: path.last };
  path.oldPos = oldPos;
  return newPos;
}

function buildChanges(last: Component | undefined, oldTokens: string[], newTokens: string[]): LineChange[] {
  const components: Component[] = [];
  for (let current = last; current; current = current.previous) components.push(current);
  components.reverse();
  const changes: LineChange[] = [];
  let oldPos = 0;
  let newPos = 0;
  for (const component of components) {
    if (component.removed) {
      changes.push({ lines: oldTokens.slice(oldPos, oldPos + component.count), added: false, removed: true });
      oldPos += component.count;
    } else {
      changes.push({
        lines: newTokens.slice(newPos, newPos + component.count),
        added: component.added,
        removed: false,
      });
      newPos += component.count;
      if (!component.added) oldPos += component.count;
    }
  }
  return changes;
}

function diffAsBlock(oldTokens: string[], newTokens: string[]): LineChange[] {
  let prefix = 0;
  while (prefix < oldTokens.length && prefix < newTokens.length && oldTokens[prefix] === newTokens[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < oldTokens.length - prefix &&
    suffix < newTokens.length - prefix &&
    oldTokens[oldTokens.length - 1 - suffix] === newTokens[newTokens.length - 1 - suffix]
  ) {
    suffix++;
  }
  const changes: LineChange[] = [];
  const push = (lines: string[], added: boolean, removed: boolean) => {
    if (lines.length > 0) changes.push({ lines, added, removed });
  };
  push(oldTokens.slice(0, prefix), false, false);
  push(oldTokens.slice(prefix, oldTokens.length - suffix), false, true);
  push(newTokens.slice(prefix, newTokens.length - suffix), true, false);
  push(oldTokens.slice(oldTokens.length - suffix), false, false);
  return changes;
}

interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/** The unified diff of two texts in jsdiff's `createTwoFilesPatch` format (Index line, `===` rule, 4 lines of context). */
export function createUnifiedPatch(
  fileName: string,
  oldText: string,
  newText: string,
  oldHeader: string,
  newHeader: string,
  context = 4,
): string {
  const hunks = collectHunks(diffLines(oldText, newText), context);
  const out = [
    `Index: ${fileName}`,
    '===================================================================',
    `--- ${fileName}\t${oldHeader}`,
    `+++ ${fileName}\t${newHeader}`,
  ];
  for (const hunk of hunks) {
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    out.push(`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`, ...hunk.lines);
  }
  return `${out.join('\n')}\n`;
}

function collectHunks(changes: LineChange[], context: number): Hunk[] {
  const diff = [...changes, { lines: [], added: false, removed: false }];
  const hunks: Hunk[] = [];
  const contextLines = (lines: string[]) => lines.map((line) => ` ${line}`);
  let oldRangeStart = 0;
  let newRangeStart = 0;
  let range: string[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (let i = 0; i < diff.length; i++) {
    const current = diff[i]!;
    const lines = current.lines;
    if (current.added || current.removed) {
      if (!oldRangeStart) {
        const previous = diff[i - 1];
        oldRangeStart = oldLine;
        newRangeStart = newLine;
        if (previous) {
          range = context > 0 ? contextLines(previous.lines.slice(-context)) : [];
          oldRangeStart -= range.length;
          newRangeStart -= range.length;
        }
      }
      for (const line of lines) range.push((current.added ? '+' : '-') + line);
      if (current.added) newLine += lines.length;
      else oldLine += lines.length;
    } else {
      if (oldRangeStart) {
        if (lines.length <= context * 2 && i < diff.length - 2) {
          range.push(...contextLines(lines));
        } else {
          const contextSize = Math.min(lines.length, context);
          range.push(...contextLines(lines.slice(0, contextSize)));
          hunks.push({
            oldStart: oldRangeStart,
            oldLines: oldLine - oldRangeStart + contextSize,
            newStart: newRangeStart,
            newLines: newLine - newRangeStart + contextSize,
            lines: range,
          });
          oldRangeStart = 0;
          newRangeStart = 0;
          range = [];
        }
      }
      oldLine += lines.length;
      newLine += lines.length;
    }
  }
  for (const hunk of hunks) {
    for (let i = 0; i < hunk.lines.length; i++) {
      const line = hunk.lines[i]!;
      if (line.endsWith('\n')) {
        hunk.lines[i] = line.slice(0, -1);
      } else {
        hunk.lines.splice(i + 1, 0, '\\ No newline at end of file');
        i++;
      }
    }
  }
  return hunks;
}

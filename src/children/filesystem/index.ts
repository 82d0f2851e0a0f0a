export { AllowedRoots, expandHome, isWithin, isWithinAny } from './allowed-roots.js';
export { makeContainedDirectory } from './contained.js';
export { readHead, readTail, readTextCapped, writeFileAtomic } from './file-io.js';
export { formatSize } from './format.js';
export { compileGlob, expandBraces, type GlobMatcher } from './glob.js';
export * as filesystemLimits from './limits.js';
export { resolveAllowedPath } from './resolve-path.js';
export { createFilesystemServer, type FilesystemServerOptions } from './server.js';
export { applyTextEdits, formatEditDiff, type TextEdit } from './text-edits.js';
export { createUnifiedPatch, diffLines, type LineChange } from './unified-diff.js';
export {
  buildDirectoryTree,
  compileSearchExcludes,
  compileTreeExcludes,
  readContainedDir,
  searchFiles,
  type TreeEntry,
  type WalkOptions,
} from './walk.js';

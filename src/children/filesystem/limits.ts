/**
 * Output and time caps of the filesystem child. Text results travel twice (as content and as structured content)
 * and media travel base64-encoded (4/3 larger), so 1 MiB of file keeps every answer well under the gateway's
 * 4 MiB frame limit.
 */
export const MAX_READ_BYTES = 1024 * 1024;

/** Total bytes read_multiple_files returns across all its files; the same budget as one read. */
export const MAX_MULTI_READ_BYTES = MAX_READ_BYTES;

/** Files one read_multiple_files call may name: enough for a module's sources, small enough to answer quickly. */
export const MAX_MULTI_READ_FILES = 100;

/** Entries list_directory and list_directory_with_sizes show before saying how many more there are. */
export const MAX_LIST_ENTRIES = 10_000;

/** Entries directory_tree returns; about 600 KB of JSON, past which a tree stops being readable anyway. */
export const MAX_TREE_ENTRIES = 10_000;

/** Matches search_files returns before it stops and says so. */
export const MAX_SEARCH_RESULTS = 1_000;

/** Entries search_files examines before it stops: bounds the walk of a huge tree even when nothing matches. */
export const MAX_SEARCH_VISITED = 200_000;

/** Time a directory walk (directory_tree, search_files) may take (ms) before it stops and says so. */
export const WALK_BUDGET_MS = 10_000;

/** Time any tool call may take (ms): below the gateway's default 30 s request timeout, so the client gets this message. */
export const TOOL_TIMEOUT_MS = 20_000;

/** Edit distance (lines) past which edit_file's diff stops searching for the shortest script and shows a block. */
export const MAX_DIFF_EDIT_LENGTH = 4_000;

/** Characters of diff edit_file shows: a whole-file rewrite diffs to twice the file, so it gets the read budget too. */
export const MAX_DIFF_CHARS = MAX_READ_BYTES;

/** Alternatives one glob may expand to through braces (`{a,b}`, `{1..9}`), against patterns that explode. */
export const MAX_GLOB_ALTERNATIVES = 256;

/** Characters one glob may have: far past any real pattern, and it keeps each match's automaton small. */
export const MAX_GLOB_PATTERN_CHARS = 1_000;

/** Longest stretch (ms) a directory walk keeps the event loop before letting other requests in: well below a health check's patience. */
export const WALK_YIELD_MS = 20;

/** Characters of all the alternatives a glob's braces expand to, together: bounds the work of matching one name. */
export const MAX_GLOB_EXPANDED_CHARS = 4 * MAX_GLOB_PATTERN_CHARS;

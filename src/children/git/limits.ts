/** Time one git command may run (ms): below the gateway's default 30 s request timeout, so the client gets this message. */
export const GIT_TIMEOUT_MS = 20_000;

/** Time a timed-out or cancelled git gets between SIGTERM and SIGKILL (ms). */
export const GIT_KILL_GRACE_MS = 2_000;

/**
 * Output kept from one git command (characters). Results travel as one text block, so 1 MiB stays well under the
 * gateway's 4 MiB frame limit even after JSON escaping; anything longer is cut and says so.
 */
export const MAX_GIT_OUTPUT = 1024 * 1024;

/** Commits git_log returns at most: a history longer than this is better read in pages by date. */
export const MAX_LOG_COUNT = 1_000;

/** Context lines a diff may ask for: generous (whole files), but bounded. */
export const MAX_CONTEXT_LINES = 100_000;

/** Paths one git_add call may stage. */
export const MAX_ADD_FILES = 1_000;

/** Client roots one request may carry: far above what a client declares, low enough to resolve them all per request. */
export const MAX_CLIENT_ROOTS = 1_000;

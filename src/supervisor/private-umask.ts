/** The supervisor's umask: whatever the user's, every file it makes is 0600 at most and every directory 0700. */
export const PRIVATE_UMASK = 0o077;

let userUmask: number | undefined;

/** Switches this process to the private umask, remembering the user's for the children; idempotent. */
export function usePrivateUmask(): void {
  userUmask ??= process.umask(PRIVATE_UMASK);
}

/**
 * Runs a synchronous spawn under the user's own umask, so children (which write the user's files) create them as
 * the user expects; the umask is inherited at fork, which happens inside the call.
 */
export function withUserUmask<T>(spawn: () => T): T {
  if (userUmask === undefined) return spawn();
  const own = process.umask(userUmask);
  try {
    return spawn();
  } finally {
    process.umask(own);
  }
}

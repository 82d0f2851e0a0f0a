/** The syslog levels omnimind writes to the journal. */
export type JournalLevel = 'err' | 'warning' | 'info' | 'debug';

/** syslog(3) priorities that journald reads from a `<N>` line prefix (sd-daemon(3)). */
export const JOURNAL_PRIORITY: Readonly<Record<JournalLevel, number>> = { err: 3, warning: 4, info: 6, debug: 7 };

/** True when systemd started this process (it sets INVOCATION_ID, and JOURNAL_STREAM when stderr is the journal). */
export function isUnderSystemd(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.INVOCATION_ID) || Boolean(env.JOURNAL_STREAM);
}

/** Prefixes every line of `message` with its priority so journald files each line at the right level. */
export function journalLine(level: JournalLevel, message: string): string {
  const prefix = `<${JOURNAL_PRIORITY[level]}>`;
  return message
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

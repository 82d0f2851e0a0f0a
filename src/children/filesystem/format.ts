import type { Dirent, Stats } from 'node:fs';

/** A byte count for people: `512 B`, `1.50 KB`, `2.00 MB` (1024-based, as the reference server prints it). */
export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  if (bytes <= 0) return '0 B';
  const exponent = Math.floor(Math.log(bytes) / Math.log(1024));
  if (exponent <= 0) return `${bytes} ${units[0]}`;
  const unit = Math.min(exponent, units.length - 1);
  return `${(bytes / 1024 ** unit).toFixed(2)} ${units[unit]}`;
}

/** get_file_info's text: one `key: value` line per field, dates in the JavaScript `Date` text form. */
export function formatFileInfo(info: Stats): string {
  const fields: [string, unknown][] = [
    ['size', info.size],
    ['created', info.birthtime],
    ['modified', info.mtime],
    ['accessed', info.atime],
    ['isDirectory', info.isDirectory()],
    ['isFile', info.isFile()],
    ['permissions', info.mode.toString(8).slice(-3)],
  ];
  return fields.map(([key, value]) => `${key}: ${String(value)}`).join('\n');
}

/** The line that says how many entries a capped listing left out. */
export function formatOmitted(omitted: number, what: string): string {
  return `[${omitted} more ${what} not shown; the listing stops at the first entries]`;
}

/** list_directory's text: `[DIR] name` / `[FILE] name` lines in directory order, capped at `maxEntries`. */
export function formatListing(entries: readonly Dirent[], maxEntries: number): string {
  const lines = entries
    .slice(0, maxEntries)
    .map((entry) => `${entry.isDirectory() ? '[DIR]' : '[FILE]'} ${entry.name}`);
  if (entries.length > maxEntries) lines.push(formatOmitted(entries.length - maxEntries, 'entries'));
  return lines.join('\n');
}

/** One entry of list_directory_with_sizes. */
export interface SizedEntry {
  name: string;
  isDirectory: boolean;
  size: number;
}

/** list_directory_with_sizes' text: sorted, padded lines, then file and directory totals over all entries. */
export function formatSizedListing(
  entries: readonly SizedEntry[],
  sortBy: 'name' | 'size',
  maxEntries: number,
): string {
  const sorted = [...entries].sort((a, b) => (sortBy === 'size' ? b.size - a.size : a.name.localeCompare(b.name)));
  const lines = sorted
    .slice(0, maxEntries)
    .map(
      (entry) =>
        `${entry.isDirectory ? '[DIR]' : '[FILE]'} ${entry.name.padEnd(30)} ${
          entry.isDirectory ? '' : formatSize(entry.size).padStart(10)
        }`,
    );
  if (sorted.length > maxEntries) lines.push(formatOmitted(sorted.length - maxEntries, 'entries'));
  const files = entries.filter((entry) => !entry.isDirectory);
  const totalSize = files.reduce((sum, entry) => sum + entry.size, 0);
  lines.push(
    '',
    `Total: ${files.length} files, ${entries.length - files.length} directories`,
    `Combined size: ${formatSize(totalSize)}`,
  );
  return lines.join('\n');
}

import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/** Rotate a log once it passes 10 MiB: large enough for days of normal output, small enough to tail quickly. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Keep five rotated files (`.1` … `.5`): 60 MiB at most per log. */
export const DEFAULT_LOG_KEEP = 5;

/** Options of a RotatingLogFile. */
export interface RotatingLogFileOptions {
  maxBytes?: number;
  keep?: number;
}

/**
 * An append-only log file rotated by size. Writing never throws: a failure (a full disk, a read-only
 * file system) is recorded in `lastError` and the bytes are counted as dropped, so the writer keeps working.
 */
export class RotatingLogFile {
  readonly path: string;
  #maxBytes: number;
  #keep: number;
  #fd: number | undefined;
  #size = 0;
  #regularFile = true;
  /** The last write or open failure, cleared by the next successful write. */
  lastError: string | undefined;
  /** Bytes that could not be written. */
  droppedBytes = 0;

  constructor(path: string, options: RotatingLogFileOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.#keep = options.keep ?? DEFAULT_LOG_KEEP;
  }

  #open(): number | undefined {
    if (this.#fd !== undefined) return this.#fd;
    try {
      this.#fd = openSync(this.path, 'a', 0o600);
      const stat = fstatSync(this.#fd);
      this.#regularFile = stat.isFile();
      this.#size = stat.size;
      return this.#fd;
    } catch (error) {
      this.lastError = `cannot open ${this.path}: ${(error as Error).message}`;
      return undefined;
    }
  }

  #rotate(): void {
    this.#closeFd();
    try {
      rmSync(`${this.path}.${this.#keep}`, { force: true });
      for (let i = this.#keep - 1; i >= 1; i--) {
        try {
          renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch {
          // a missing generation is normal
        }
      }
      renameSync(this.path, `${this.path}.1`);
    } catch (error) {
      this.lastError = `cannot rotate ${this.path}: ${(error as Error).message}`;
    }
    this.#size = 0;
  }

  /** Appends text (already newline-terminated). */
  write(text: string): void {
    const buffer = Buffer.from(text);
    if (this.#regularFile && this.#size > 0 && this.#size + buffer.length > this.#maxBytes) this.#rotate();
    const fd = this.#open();
    if (fd === undefined) {
      this.droppedBytes += buffer.length;
      return;
    }
    try {
      writeSync(fd, buffer);
      this.#size += buffer.length;
      this.lastError = undefined;
    } catch (error) {
      this.droppedBytes += buffer.length;
      this.lastError = `cannot write ${this.path}: ${(error as Error).message}`;
    }
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // closing a broken descriptor has nothing left to report
    }
    this.#fd = undefined;
  }

  /** Takes new limits (a config reload); they apply from the next write. */
  reconfigure(options: RotatingLogFileOptions): void {
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.#keep = options.keep ?? DEFAULT_LOG_KEEP;
  }

  /** Closes the file; later writes reopen it. */
  close(): void {
    this.#closeFd();
  }
}

import { OmnimindError } from '../protocol/index.js';

/** A config file that does not parse: it is left alone and the error says where it is wrong. */
export function malformedFile(file: string, format: string, why: string): OmnimindError {
  return new OmnimindError(
    'CLIENT_CONFIG_MALFORMED',
    `${file} is not valid ${format} (${why}), so omnimind left it unchanged: fix it, or move it away, then run this again.`,
  );
}

/** An edit that would have changed more than the entry: refused, and the file left as it was. */
export function uneditableFile(file: string, why: string, snippet?: string): OmnimindError {
  return new OmnimindError(
    'CLIENT_CONFIG_UNEDITABLE',
    `omnimind cannot edit ${file} without touching other content (${why}), so it left it unchanged: ` +
      (snippet === undefined ? 'edit it by hand.' : `edit it by hand; the entry is:\n${snippet}`),
  );
}

/** The 1-based line and column of a character offset, for parse errors. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

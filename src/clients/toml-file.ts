import { isDeepStrictEqual } from 'node:util';
import { parse, TomlError } from 'smol-toml';
import { malformedFile, uneditableFile } from './errors.js';
import type { ConfigFormat, ServerEntry } from './types.js';

/** The table that holds Codex's MCP servers (`[mcp_servers.<name>]`). */
const SERVERS_KEY = 'mcp_servers';

/** A `[table]` or `[[array]]` header line, with its dotted key; `keys` is undefined when omnimind cannot read it. */
interface Header {
  line: number;
  keys: string[] | undefined;
}

type Document = Record<string, unknown>;

function parseDocument(text: string, file: string): Document {
  try {
    return parse(text) as Document;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const why = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    throw malformedFile(file, 'TOML', `${why} at line ${error.line}, column ${error.column}`);
  }
}

/** The document as plain values (the parser's objects have no prototype, its dates are objects) to compare. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function serversOf(doc: Document, file: string): Record<string, unknown> {
  const servers = doc[SERVERS_KEY];
  if (servers === undefined) return {};
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw malformedFile(file, 'MCP config', `its "${SERVERS_KEY}" is not a table`);
  }
  return servers as Record<string, unknown>;
}

/** The index just past a multi-line string's closing delimiter at or after `from`, or -1 when it goes on. */
function multilineEnd(line: string, from: number, delimiter: string): number {
  for (let i = line.indexOf(delimiter, from); i >= 0; i = line.indexOf(delimiter, i + 1)) {
    let backslashes = 0;
    while (delimiter === '"""' && line[i - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) {
      let end = i + 3;
      while (line[end] === delimiter[0] && end < i + 5) end++;
      return end;
    }
  }
  return -1;
}

/** The end of a one-line string opened at `from` (a quote character). */
function stringEnd(line: string, from: number): number {
  const quote = line[from];
  for (let i = from + 1; i < line.length; i++) {
    if (quote === '"' && line[i] === '\\') i++;
    else if (line[i] === quote) return i + 1;
  }
  return line.length;
}

/** The keys of a header such as `[ mcp_servers."omnimind" ]`, or undefined for a form this reader does not know. */
function headerKeys(line: string): string[] | undefined {
  const match = /^\s*\[\[?(.*?)\]\]?\s*(#.*)?$/.exec(line);
  if (match === null || match[1] === undefined) return undefined;
  const keys: string[] = [];
  const key = /\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(\.|$)/y;
  let rest = match[1];
  while (rest.length > 0) {
    key.lastIndex = 0;
    const part = key.exec(rest);
    if (part === null) return undefined;
    if (part[2] !== undefined) {
      try {
        keys.push(JSON.parse(`"${part[2]}"`) as string);
      } catch {
        return undefined;
      }
    } else {
      keys.push(part[1] ?? part[3] ?? '');
    }
    rest = rest.slice(part[0].length);
    if (part[4] === '' && rest.length > 0) return undefined;
  }
  return keys;
}

/** Every table header line, skipping what is inside multi-line strings. */
function scanHeaders(lines: string[]): Header[] {
  const headers: Header[] = [];
  let open: string | undefined;
  lines.forEach((line, index) => {
    let i = 0;
    if (open !== undefined) {
      const end = multilineEnd(line, 0, open);
      if (end < 0) return;
      open = undefined;
      i = end;
    } else if (/^\s*\[/.test(line)) {
      headers.push({ line: index, keys: headerKeys(line) });
      return;
    }
    while (i < line.length) {
      const delimiter = line.startsWith('"""', i) ? '"""' : line.startsWith("'''", i) ? "'''" : undefined;
      if (delimiter !== undefined) {
        const end = multilineEnd(line, i + 3, delimiter);
        if (end < 0) {
          open = delimiter;
          return;
        }
        i = end;
      } else if (line[i] === '#') {
        return;
      } else if (line[i] === '"' || line[i] === "'") {
        i = stringEnd(line, i);
      } else {
        i++;
      }
    }
  });
  return headers;
}

/** The line ranges of the tables `[mcp_servers.<name>]` and `[mcp_servers.<name>.…]`; blank and comment lines that
 * end a range stay with what follows. */
function entryBlocks(lines: string[], name: string): Array<{ start: number; end: number }> {
  const headers = scanHeaders(lines);
  const blocks: Array<{ start: number; end: number }> = [];
  headers.forEach((header, i) => {
    if (header.keys?.[0] !== SERVERS_KEY || header.keys[1] !== name) return;
    let end = headers[i + 1]?.line ?? lines.length;
    while (end > header.line + 1 && /^\s*(#.*)?\r?$/.test(lines[end - 1] ?? '')) end--;
    blocks.push({ start: header.line, end });
  });
  return blocks;
}

/** Removes a block's lines, and a blank line before it that would otherwise double the one after it (or end the file). */
function removeBlock(lines: string[], block: { start: number; end: number }): void {
  let start = block.start;
  if (start > 0 && (lines[start - 1] ?? '').trim() === '' && (lines[block.end] ?? '').trim() === '') start--;
  lines.splice(start, block.end - start);
}

function bareOrQuoted(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** A TOML basic string: JSON's escapes are TOML's, plus DEL, which TOML wants escaped. */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\x7f/g, '\\u007f');
}

function renderEntry(name: string, entry: ServerEntry): string[] {
  const lines = [
    `[${SERVERS_KEY}.${bareOrQuoted(name)}]`,
    `command = ${tomlString(entry.command)}`,
    `args = [${entry.args.map(tomlString).join(', ')}]`,
  ];
  const env = Object.entries(entry.env);
  if (env.length > 0)
    lines.push(`env = { ${env.map(([k, v]) => `${bareOrQuoted(k)} = ${tomlString(v)}`).join(', ')} }`);
  return lines;
}

/** The document without one server, and without an `mcp_servers` table left empty, as plain values. */
function withoutServer(doc: Document, name: string): unknown {
  const copy = plain(doc) as Record<string, Record<string, unknown>>;
  const servers = copy[SERVERS_KEY];
  if (servers !== undefined) {
    delete servers[name];
    if (Object.keys(servers).length === 0) delete copy[SERVERS_KEY];
  }
  return copy;
}

function storedForm(entry: ServerEntry): Record<string, unknown> {
  return { command: entry.command, args: entry.args, ...(Object.keys(entry.env).length > 0 ? { env: entry.env } : {}) };
}

/**
 * Codex's config.toml: an entry is the table `[mcp_servers.<name>]` (and any of its sub-tables), edited as lines;
 * every other line is kept byte for byte. The result is parsed again and compared with the intent, so an entry
 * written in a form this editor does not rewrite (inline or dotted keys) is refused, never half changed.
 */
export const tomlFormat: ConfigFormat = {
  readServers(text, file) {
    return serversOf(parseDocument(text, file), file);
  },
  setServer(text, file, name, entry) {
    const before = parseDocument(text, file);
    serversOf(before, file);
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const rendered = renderEntry(name, entry);
    const lines = text.split('\n');
    const blocks = entryBlocks(lines, name);
    let after: string;
    const first = blocks[0];
    if (first === undefined) {
      let head = text;
      if (head.length > 0 && !head.endsWith('\n')) head += eol;
      if (head.trim().length > 0 && !head.endsWith(`${eol}${eol}`)) head += eol;
      after = `${head}${rendered.join(eol)}${eol}`;
    } else {
      const cr = eol === '\r\n' ? '\r' : '';
      for (const block of blocks.slice(1).reverse()) removeBlock(lines, block);
      lines.splice(first.start, first.end - first.start, ...rendered.map((l) => l + cr));
      after = lines.join('\n');
    }
    const snippet = rendered.join('\n');
    let doc: Document;
    try {
      doc = parse(after) as Document;
    } catch {
      throw uneditableFile(file, `its ${SERVERS_KEY} table is written in a form omnimind does not edit`, snippet);
    }
    const written = (doc[SERVERS_KEY] as Record<string, unknown> | undefined)?.[name];
    if (
      !isDeepStrictEqual(plain(written), storedForm(entry)) ||
      !isDeepStrictEqual(withoutServer(doc, name), withoutServer(before, name))
    ) {
      throw uneditableFile(file, `its ${SERVERS_KEY}.${name} is written in a form omnimind does not edit`, snippet);
    }
    return after;
  },
  removeServer(text, file, name) {
    const before = parseDocument(text, file);
    const lines = text.split('\n');
    for (const block of entryBlocks(lines, name).reverse()) removeBlock(lines, block);
    const after = lines.join('\n');
    let doc: Document | undefined;
    try {
      doc = parse(after) as Document;
    } catch {
      doc = undefined;
    }
    if (
      doc === undefined ||
      serversOf(doc, file)[name] !== undefined ||
      !isDeepStrictEqual(withoutServer(doc, name), withoutServer(before, name))
    ) {
      throw uneditableFile(file, `its ${SERVERS_KEY}.${name} is written in a form omnimind does not edit`);
    }
    return after;
  },
  matches(stored, entry) {
    if (typeof stored !== 'object' || stored === null) return false;
    const have = plain(stored) as Record<string, unknown>;
    return (
      have.command === entry.command &&
      isDeepStrictEqual(have.args, entry.args) &&
      isDeepStrictEqual(have.env ?? {}, entry.env)
    );
  },
};

import { isDeepStrictEqual } from 'node:util';
import { type Node, type ParseError, parse, parseTree, printParseErrorCode } from 'jsonc-parser';
import { lineAndColumn, malformedFile, uneditableFile } from './errors.js';
import type { ConfigFormat, ServerEntry } from './types.js';

// Comments and trailing commas are accepted: VS Code's mcp.json is JSONC, and Gemini CLI strips comments from its
// settings. They are kept as they are, like every byte outside the one member an edit touches.
const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true };

/** The file's own layout, so an inserted member looks like its neighbours. */
interface Style {
  /** One level of indentation: a tab or the file's first indentation width in spaces. */
  unit: string;
  eol: string;
}

/** A text change: replace `length` characters at `offset` with `content`. */
interface Edit {
  offset: number;
  length: number;
  content: string;
}

function detectStyle(text: string): Style {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indented = /\n([ \t]+)\S/.exec(text)?.[1];
  const unit = indented === undefined ? '  ' : indented.startsWith('\t') ? '\t' : indented;
  return { unit, eol };
}

/** Applies edits from the end backwards; of two at one offset, the one listed first ends up first. */
function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  const order = edits.map((edit, index) => ({ edit, index }));
  for (const { edit } of order.sort((a, b) => b.edit.offset - a.edit.offset || b.index - a.index)) {
    out = out.slice(0, edit.offset) + edit.content + out.slice(edit.offset + edit.length);
  }
  return out;
}

/** The whitespace that starts the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? '';
}

/** A value printed as the file would: each level one `unit` deeper than `indent`. */
function render(value: unknown, indent: string, style: Style): string {
  return JSON.stringify(value, null, style.unit)
    .split('\n')
    .join(style.eol + indent);
}

function parseRoot(text: string, file: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, PARSE_OPTIONS);
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(text, first.offset);
    throw malformedFile(file, 'JSON', `${printParseErrorCode(first.error)} at line ${line}, column ${column}`);
  }
  if (root !== undefined && root.type !== 'object') throw malformedFile(file, 'JSON', 'its top level is not an object');
  return root;
}

function propertyNamed(object: Node, name: string): Node | undefined {
  return object.children?.find((p) => p.children?.[0]?.value === name);
}

/** The member `key` of the root as an object node, undefined when absent; anything else than an object is refused. */
function containerOf(root: Node | undefined, key: string, file: string): Node | undefined {
  if (root === undefined) return undefined;
  const value = propertyNamed(root, key)?.children?.[1];
  if (value !== undefined && value.type !== 'object') {
    throw malformedFile(
      file,
      'MCP config',
      `its "${key}" is a${value.type === 'array' ? 'n' : ''} ${value.type}, not an object`,
    );
  }
  return value;
}

/** Inserts `"name": value` as the last member of `object`, on its own line, or inline when the object is on one line. */
function insertMember(text: string, object: Node, name: string, value: unknown, style: Style): Edit[] {
  const open = object.offset;
  const close = object.offset + object.length - 1;
  const members = object.children ?? [];
  const last = members[members.length - 1];
  if (last === undefined) {
    const indent = lineIndent(text, open);
    const member = `${JSON.stringify(name)}: ${render(value, indent + style.unit, style)}`;
    const inside = text.slice(open + 1, close);
    const content = `${style.eol}${indent}${style.unit}${member}${style.eol}${indent}`;
    // `{}` or `{ \n }` becomes the member alone; an object holding only comments keeps them after it.
    return [{ offset: open + 1, length: inside.trim() === '' ? inside.length : 0, content }];
  }
  const lastEnd = last.offset + last.length;
  if (!text.slice(open, close).includes('\n')) {
    const spaced = text.slice(last.children?.[0]?.offset ?? last.offset, last.children?.[1]?.offset).includes(' ');
    const member = spaced
      ? `, ${JSON.stringify(name)}: ${JSON.stringify(value)}`
      : `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
    return [{ offset: lastEnd, length: 0, content: member }];
  }
  const indent = lineIndent(text, last.offset);
  const member = `${JSON.stringify(name)}: ${render(value, indent, style)}`;
  // After the last member's line (its trailing comma and line comment stay with it), or right after it.
  const rest = /^[ \t]*(,?)[ \t]*(\/\/[^\r\n]*)?(?=\r?\n)/.exec(text.slice(lastEnd));
  if (rest === null) return [{ offset: lastEnd, length: 0, content: `,${style.eol}${indent}${member}` }];
  const trailingComma = rest[1] === ',';
  return [
    ...(trailingComma ? [] : [{ offset: lastEnd, length: 0, content: ',' }]),
    {
      offset: lastEnd + rest[0].length,
      length: 0,
      content: `${style.eol}${indent}${member}${trailingComma ? ',' : ''}`,
    },
  ];
}

/**
 * Removes one member with its comma and its line comment; the neighbours keep their layout (the reverse of
 * {@link insertMember}, so adding then removing gives back the original bytes).
 */
function removeMember(text: string, object: Node, property: Node): Edit[] {
  const members = object.children ?? [];
  const index = members.indexOf(property);
  const next = members[index + 1];
  const previous = members[index - 1];
  if (next !== undefined) return [{ offset: property.offset, length: next.offset - property.offset, content: '' }];
  const end = property.offset + property.length;
  const tail = /^[ \t]*(,?)[ \t]*(\/\/[^\r\n]*)?/.exec(text.slice(end));
  const until = end + (tail?.[0].length ?? 0);
  if (previous === undefined) {
    const inner = { start: object.offset + 1, end: object.offset + object.length - 1 };
    // The only member, with nothing but blanks around it: the object becomes `{}`.
    const alone = text.slice(inner.start, property.offset).trim() === '' && text.slice(until, inner.end).trim() === '';
    return alone
      ? [{ offset: inner.start, length: inner.end - inner.start, content: '' }]
      : [{ offset: property.offset, length: until - property.offset, content: '' }];
  }
  const previousEnd = previous.offset + previous.length;
  const comma = /^[ \t]*,/.exec(text.slice(previousEnd));
  const lineEnd = text.slice(0, property.offset).search(/\r?\n[ \t]*$/);
  if (comma === null || lineEnd < previousEnd)
    return [{ offset: previousEnd, length: until - previousEnd, content: '' }];
  // The member goes from the end of the previous line; the previous member's comma goes too, unless the removed
  // member had a trailing comma of its own (JSONC), which the previous one then keeps.
  return [
    ...(tail?.[1] === ',' ? [] : [{ offset: previousEnd + comma[0].length - 1, length: 1, content: '' }]),
    { offset: lineEnd, length: until - lineEnd, content: '' },
  ];
}

/**
 * A JSON (or JSONC) config file whose servers live in the top-level object `key`, each stored as `shape(entry)`.
 * Every edit is textual and touches only the one member; the result is parsed again and compared with the intent.
 */
export function jsonFormat(key: string, shape: (entry: ServerEntry) => Record<string, unknown>): ConfigFormat {
  const parseValue = (text: string): Record<string, unknown> =>
    text.trim() === '' ? {} : (parse(text, [], PARSE_OPTIONS) as Record<string, unknown>);
  const readServers = (text: string, file: string): Record<string, unknown> => {
    const root = parseRoot(text, file);
    containerOf(root, key, file);
    return (parseValue(text)[key] as Record<string, unknown> | undefined) ?? {};
  };
  /** Checks that `after` is `before` with only the servers map changed to `servers`. */
  const verify = (
    before: string,
    after: string,
    file: string,
    servers: Record<string, unknown>,
    entry: unknown,
  ): string => {
    const expected = { ...parseValue(before), [key]: servers };
    let actual: unknown;
    try {
      parseRoot(after, file);
      actual = parseValue(after);
    } catch {
      actual = undefined;
    }
    if (!isDeepStrictEqual(actual, expected)) {
      throw uneditableFile(
        file,
        'the edited text did not parse back to the same content',
        JSON.stringify(entry, null, 2),
      );
    }
    return after;
  };
  return {
    readServers,
    setServer(text, file, name, entry) {
      const value = shape(entry);
      const servers = { ...readServers(text, file), [name]: value };
      const root = parseRoot(text, file);
      const style = detectStyle(text);
      if (root === undefined) return `${render({ [key]: { [name]: value } }, '', style)}${style.eol}`;
      const container = containerOf(root, key, file);
      let edits: Edit[];
      if (container === undefined) {
        edits = insertMember(text, root, key, { [name]: value }, style);
      } else {
        const existing = propertyNamed(container, name);
        const old = existing?.children?.[1];
        edits =
          existing === undefined || old === undefined
            ? insertMember(text, container, name, value, style)
            : [
                {
                  offset: old.offset,
                  length: old.length,
                  content: render(value, lineIndent(text, existing.offset), style),
                },
              ];
      }
      return verify(text, applyEdits(text, edits), file, servers, { [name]: value });
    },
    removeServer(text, file, name) {
      const servers = { ...readServers(text, file) };
      delete servers[name];
      const container = containerOf(parseRoot(text, file), key, file);
      const property = container && propertyNamed(container, name);
      if (container === undefined || property === undefined) return text;
      return verify(text, applyEdits(text, removeMember(text, container, property)), file, servers, {});
    },
    matches(stored, entry) {
      if (typeof stored !== 'object' || stored === null) return false;
      const wanted = shape(entry);
      const have = stored as Record<string, unknown>;
      return Object.keys({ ...wanted, env: undefined }).every((k) =>
        k === 'env' ? isDeepStrictEqual(have.env ?? {}, wanted.env ?? {}) : isDeepStrictEqual(have[k], wanted[k]),
      );
    },
  };
}

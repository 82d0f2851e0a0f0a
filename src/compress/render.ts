import type { ChatMessage } from './types.js';

/** A slice of the rendered text: a message's metadata header, or content segmented on its own. */
export interface Region {
  start: number;
  end: number;
  header: boolean;
}

/** The text to compress and where its headers and contents lie. */
export interface Rendered {
  text: string;
  regions: Region[];
}

const BARE_VALUE = /^[^\s\]"=]+$/;

/** Render a string or a message list to one text; each message gets a `[role=… name=… …]` header line. */
export function renderInput(input: string | readonly ChatMessage[]): Rendered {
  if (typeof input === 'string') return { text: input, regions: [{ start: 0, end: input.length, header: false }] };
  const parts: string[] = [];
  const regions: Region[] = [];
  let offset = 0;
  input.forEach((message, index) => {
    const prefix = index === 0 ? '' : '\n\n';
    const header = renderHeader(message);
    const headerStart = offset + prefix.length;
    const contentStart = headerStart + header.length + 1;
    regions.push({ start: headerStart, end: headerStart + header.length, header: true });
    regions.push({ start: contentStart, end: contentStart + message.content.length, header: false });
    parts.push(prefix, header, '\n', message.content);
    offset = contentStart + message.content.length;
  });
  return { text: parts.join(''), regions };
}

/** The one-line metadata header of a message, e.g. `[role=tool name=search toolCallId=call_1]`. */
export function renderHeader(message: ChatMessage): string {
  const fields: Array<[string, string | undefined]> = [
    ['role', message.role],
    ['name', message.name],
    ['toolCallId', message.toolCallId],
    ['timestamp', message.timestamp],
  ];
  const shown = fields
    .filter((field): field is [string, string] => field[1] !== undefined && field[1] !== '')
    .map(([key, value]) => `${key}=${BARE_VALUE.test(value) ? value : JSON.stringify(value)}`);
  return `[${shown.join(' ')}]`;
}

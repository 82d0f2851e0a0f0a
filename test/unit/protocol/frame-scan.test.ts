import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../bench/random.js';
import { type FrameShape, readIdText, scanFrame, scanResult } from '../../../src/protocol/index.js';

/** The value of a member as the scanner located it, parsed; undefined when it found none. */
function member(frame: string, start: number, end: number): unknown {
  return start === -1 ? undefined : JSON.parse(frame.slice(start, end));
}

function members(frame: string, shape: FrameShape) {
  return {
    id: member(frame, shape.idStart, shape.idEnd),
    method: member(frame, shape.methodStart, shape.methodEnd),
    result: member(frame, shape.resultStart, shape.resultEnd),
    error: member(frame, shape.errorStart, shape.errorEnd),
    params: member(frame, shape.paramsStart, shape.paramsEnd),
    jsonrpc: shape.jsonrpc,
  };
}

describe('scanFrame', () => {
  it.each([
    ['a number', '{"jsonrpc":"2.0","id":7,"result":{}}', 7],
    ['a negative number', '{"jsonrpc":"2.0","id":-12,"result":{}}', -12],
    ['a large number', '{"jsonrpc":"2.0","id":123456789012345,"result":{}}', 123456789012345],
    ['a fraction with an exponent', '{"id":1.5e3,"jsonrpc":"2.0","result":{}}', 1500],
    ['a string', '{"jsonrpc":"2.0","id":"abc","result":{}}', 'abc'],
    ['a string with escaped quotes', '{"jsonrpc":"2.0","id":"a\\"b\\\\","result":{}}', 'a"b\\'],
    ['a string ending in an escaped backslash', '{"id":"x\\\\","result":1}', 'x\\'],
    ['unicode', '{"jsonrpc":"2.0","id":"é-😀-\\u00e9","result":{}}', 'é-😀-é'],
    ['white space everywhere', ' {\t"jsonrpc" : "2.0" ,\r\n "id"\n:\n 42 , "result" : { } } ', 42],
    ['an escaped key', '{"jsonrpc":"2.0","\\u0069d":5,"result":{}}', 5],
    ['a long escaped key', '{"jsonrpc":"2.0","\\u0069\\u0064":6,"result":{}}', 6],
    ['the id last, after a large result', `{"result":{"text":"${'x'.repeat(10_000)}"},"jsonrpc":"2.0","id":9}`, 9],
  ])('finds an id that is %s', (_, frame, id) => {
    const shape = scanFrame(frame);
    expect(shape).toBeDefined();
    expect(member(frame, shape!.idStart, shape!.idEnd)).toEqual(id);
    expect(shape!.jsonrpc).toBe(frame.includes('"jsonrpc"'));
  });

  it('never takes an "id" inside a result, a string or a nested array for the frame\'s own', () => {
    const frame =
      '{"result":{"id":1,"content":[{"id":2},["id",{"id":3}]],"text":"\\"id\\":4"},"note":"\\"id\\":5","jsonrpc":"2.0","id":6}';
    expect(members(frame, scanFrame(frame)!).id).toBe(6);
    const noId = '{"jsonrpc":"2.0","method":"notifications/message","params":{"id":1,"data":{"id":2}}}';
    const shape = scanFrame(noId)!;
    expect(shape.idStart).toBe(-1);
    expect(members(noId, shape).method).toBe('notifications/message');
  });

  it('measures how deep the frame nests', () => {
    expect(scanFrame('{"id":1,"method":"ping"}')!.depth).toBe(1);
    expect(scanFrame('{"id":1,"params":{"a":[{"b":"[[[{{{"}]}}')!.depth).toBe(4);
    expect(scanFrame(`{"params":${'['.repeat(5000)}${']'.repeat(5000)}}`)!.depth).toBe(5001);
  });

  it('takes the last of duplicated members, as JSON.parse does', () => {
    const frame = '{"id":1,"result":{"a":1},"id":2,"result":[2]}';
    expect(members(frame, scanFrame(frame)!)).toMatchObject({ id: 2, result: [2] });
  });

  it.each([
    ['not an object', '[1,2]'],
    ['plain text', 'hello'],
    ['an unterminated string', '{"id":"abc}'],
    ['an unclosed object', '{"id":1,"result":{"a":1}'],
    ['trailing text', '{"id":1} x'],
    ['two values in a member', '{"id":1 2}'],
    ['a missing colon', '{"id" 1}'],
    ['a missing value', '{"id":}'],
    ['an empty frame', ''],
  ])('refuses %s', (_, frame) => {
    expect(scanFrame(frame)).toBeUndefined();
  });
});

describe('scanResult', () => {
  it('reads the id and the result text of a gateway answer as written', () => {
    const frame = '{"result":{"content":[{"type":"text","text":"é \\"q\\" \\u2028"}]},"jsonrpc":"2.0","id":42}';
    expect(scanResult(frame)).toEqual({
      id: 42,
      json: '{"content":[{"type":"text","text":"é \\"q\\" \\u2028"}]}',
    });
  });

  it.each([
    ['an error', '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}'],
    ['a request from the child', '{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{}}'],
    ['a notification', '{"jsonrpc":"2.0","method":"notifications/progress","params":{"result":1}}'],
    ['a string id', '{"jsonrpc":"2.0","id":"omnimind:1","result":{}}'],
    ['a negative id', '{"jsonrpc":"2.0","id":-1,"result":{}}'],
    ['a fractional id', '{"jsonrpc":"2.0","id":1.5,"result":{}}'],
    ['an id with a leading zero', '{"jsonrpc":"2.0","id":01,"result":{}}'],
    ['an id beyond 2^53', '{"jsonrpc":"2.0","id":9007199254740993,"result":{}}'],
    ['a wrong version', '{"jsonrpc":"1.0","id":1,"result":{}}'],
    ['no version', '{"id":1,"result":{}}'],
    ['no id', '{"jsonrpc":"2.0","result":{}}'],
    ['both a result and an error', '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}'],
  ])('leaves %s to the parsing path', (_, frame) => {
    expect(scanResult(frame)).toBeUndefined();
  });
});

describe('readIdText', () => {
  it('reads the id from the head of a frame cut short, keeping digits JSON.parse would round', () => {
    expect(readIdText('{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"x":"')).toBe(
      '12345678901234567890',
    );
    expect(readIdText('{"params":{"id":1},"id":"a\\"b","method":"x"')).toBe('"a\\"b"');
    expect(readIdText('{"params":{"text":"')).toBeUndefined();
  });
});

/** Random JSON: strings with escapes, quotes and astral characters, numbers of every shape, nesting with "id" keys. */
function randomValue(random: () => number, depth: number): unknown {
  const pick = Math.floor(random() * (depth > 3 ? 4 : 7));
  const pieces = ['a', '"', '\\', 'id', '"id":1', '}', '{', ']', 'é', '😀', '\n', '\t', '\u2028', '\u0000', ' ', ','];
  switch (pick) {
    case 0:
      return Array.from({ length: Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join(
        '',
      );
    case 1:
      return [0, -1, 7, 1.5, -2.25e-7, 1e21, Number.MAX_SAFE_INTEGER, 123456][Math.floor(random() * 8)];
    case 2:
      return [true, false, null][Math.floor(random() * 3)];
    case 3:
      return Math.floor(random() * 1000);
    case 4:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default: {
      const keys = ['id', 'result', 'error', 'method', 'jsonrpc', 'text', 'id"', '\\id', ''];
      const value: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--)
        value[keys[Math.floor(random() * keys.length)]!] = randomValue(random, depth + 1);
      return value;
    }
  }
}

/** JSON text of a value with random white space between tokens and, now and then, a key spelled with escapes. */
function writeJson(value: unknown, random: () => number): string {
  const space = () => [' ', '', '', '\t', '\r\n', '  '][Math.floor(random() * 6)]!;
  if (Array.isArray(value))
    return `[${space()}${value.map((v) => writeJson(v, random)).join(`${space()},${space()}`)}${space()}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).map(([key, v]) => {
      const written =
        random() < 0.1
          ? `"${[...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`
          : JSON.stringify(key);
      return `${written}${space()}:${space()}${writeJson(v, random)}`;
    });
    return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
  }
  return JSON.stringify(value);
}

describe('scanFrame against JSON.parse on random frames', () => {
  it('locates id, method, result, error and params exactly where JSON.parse finds them', () => {
    const random = createRandom(22);
    let results = 0;
    for (let n = 0; n < 5000; n++) {
      const frame: Record<string, unknown> = {};
      const order = ['result', 'jsonrpc', 'id', 'method', 'error', 'params'].sort(() => random() - 0.5);
      for (const key of order) {
        if (random() < 0.4) continue;
        if (key === 'jsonrpc') frame.jsonrpc = random() < 0.9 ? '2.0' : '1.0';
        else if (key === 'id') frame.id = random() < 0.6 ? 1 + Math.floor(random() * 1e6) : randomValue(random, 4);
        else frame[key] = randomValue(random, 0);
      }
      const text = writeJson(frame, random);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const shape = scanFrame(text);
      expect(shape, text).toBeDefined();
      expect(members(text, shape!), text).toEqual({
        id: parsed.id,
        method: parsed.method,
        result: parsed.result,
        error: parsed.error,
        params: parsed.params,
        jsonrpc: parsed.jsonrpc === '2.0',
      });
      const answer = scanResult(text);
      const isResult =
        parsed.jsonrpc === '2.0' &&
        parsed.method === undefined &&
        parsed.error === undefined &&
        'result' in parsed &&
        Number.isSafeInteger(parsed.id) &&
        (parsed.id as number) > 0;
      expect(answer !== undefined, text).toBe(isResult);
      if (answer) {
        results++;
        expect(answer.id).toBe(parsed.id);
        expect(JSON.parse(answer.json)).toEqual(parsed.result);
      }
    }
    expect(results).toBeGreaterThan(100);
  });
});

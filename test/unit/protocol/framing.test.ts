import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { flushCoalesced, LineSplitter, writeCoalesced } from '../../../src/protocol/index.js';

function collect(max: number) {
  const frames: string[] = [];
  const oversize: number[] = [];
  const splitter = new LineSplitter({ onFrame: (f) => frames.push(f), onOversize: (l) => oversize.push(l) }, max);
  return { frames, oversize, splitter };
}

describe('LineSplitter', () => {
  it('splits frames across and within chunks, skipping blank lines and CRs', () => {
    const { frames, splitter } = collect(1024);
    splitter.push(Buffer.from('{"a":1}\n{"b"'));
    splitter.push(Buffer.from(':2}\r\n\n  \n{"c":3}\n'));
    expect(frames).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const { frames, splitter } = collect(1024);
    const bytes = Buffer.from('"héllo ✓"\n');
    splitter.push(bytes.subarray(0, 3));
    splitter.push(bytes.subarray(3));
    expect(frames).toEqual(['"héllo ✓"']);
  });

  it('reports an oversized frame once, discards it, and keeps going', () => {
    const { frames, oversize, splitter } = collect(10);
    splitter.push(Buffer.from('0123456789ABC'));
    splitter.push(Buffer.from('DEF\n{"ok":1}\n'));
    expect(oversize).toEqual([10]);
    expect(frames).toEqual(['{"ok":1}']);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('rejects a bad limit like p-queue does', () => {
    expect(() => collect(0)).toThrow('Expected `maxFrameBytes` to be an integer >= 1, got `0`');
  });
});

describe('writeCoalesced', () => {
  it('sends the frames of one event-loop turn in one writev, in order, and later ones in the next', async () => {
    const batches: string[][] = [];
    const sink = new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        batches.push([chunk]);
        done();
      },
      writev(chunks, done) {
        batches.push(chunks.map((c) => c.chunk as string));
        done();
      },
    });
    writeCoalesced(sink, 'a\n');
    writeCoalesced(sink, 'b\n');
    writeCoalesced(sink, 'c\n');
    expect(batches).toEqual([]);
    await nextTurn();
    writeCoalesced(sink, 'd\n');
    await nextTurn();
    expect(batches).toEqual([['a\n', 'b\n', 'c\n'], ['d\n']]);
    expect(sink.writableCorked).toBe(0);
  });

  it('sends what it holds at once when flushed (before a process exits), and reports backpressure', () => {
    const written: string[] = [];
    const sink = new Writable({
      decodeStrings: false,
      highWaterMark: 8,
      write(chunk: string, _encoding, done) {
        written.push(chunk);
        done();
      },
    });
    expect(writeCoalesced(sink, 'one\n')).toBe(true);
    expect(writeCoalesced(sink, 'two and more\n')).toBe(false);
    expect(written).toEqual([]);
    flushCoalesced(sink);
    expect(written.join('')).toBe('one\ntwo and more\n');
    expect(sink.writableCorked).toBe(0);
  });

  it('flushes what is corked when the stream is ended in the same turn', async () => {
    const written: string[] = [];
    const sink = new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        written.push(chunk);
        done();
      },
    });
    writeCoalesced(sink, 'last\n');
    sink.end();
    await nextTurn();
    expect(written).toEqual(['last\n']);
  });
});

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
  /** A sink that records each write it is handed, as one string. */
  function recordingSink(highWaterMark?: number) {
    const writes: string[] = [];
    const sink = new Writable({
      decodeStrings: false,
      ...(highWaterMark === undefined ? {} : { highWaterMark }),
      write(chunk: string, _encoding, done) {
        writes.push(chunk);
        done();
      },
    });
    return { sink, writes };
  }

  it('hands the frames of one event-loop turn to the stream as one write, in order, and later ones in the next', async () => {
    const { sink, writes } = recordingSink();
    writeCoalesced(sink, 'a\n');
    writeCoalesced(sink, 'b\n');
    writeCoalesced(sink, 'c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    writeCoalesced(sink, 'd\n');
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('hands over what it holds at once when flushed (before a stream ends or a process exits)', () => {
    const { sink, writes } = recordingSink();
    writeCoalesced(sink, 'one\n');
    writeCoalesced(sink, 'two\n');
    flushCoalesced(sink);
    expect(writes).toEqual(['one\ntwo\n']);
    flushCoalesced(sink);
    expect(writes).toEqual(['one\ntwo\n']);
    sink.end();
  });

  it('reports backpressure once the stream asked for it, and the stream then emits drain', async () => {
    let release: (() => void) | undefined;
    const sink = new Writable({
      decodeStrings: false,
      highWaterMark: 8,
      write(_chunk: string, _encoding, done) {
        release = done;
      },
    });
    expect(writeCoalesced(sink, 'more than eight\n')).toBe(true);
    await nextTurn();
    expect(writeCoalesced(sink, 'x\n')).toBe(false);
    const drained = new Promise((resolve) => sink.once('drain', resolve));
    release?.();
    await drained;
    expect(writeCoalesced(sink, 'y\n')).toBe(true);
  });

  it('drops nothing written before a flush and an end in the same turn', async () => {
    const { sink, writes } = recordingSink();
    writeCoalesced(sink, 'last\n');
    flushCoalesced(sink);
    sink.end();
    await nextTurn();
    expect(writes).toEqual(['last\n']);
  });
});

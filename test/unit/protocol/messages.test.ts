import { describe, expect, it } from 'vitest';
import { ErrorCode, parseFrame, rejectionFor } from '../../../src/protocol/index.js';

describe('parseFrame and rejectionFor', () => {
  it('classifies requests, notifications and responses', () => {
    expect(parseFrame('{"jsonrpc":"2.0","id":1,"method":"ping"}').kind).toBe('request');
    expect(parseFrame('{"jsonrpc":"2.0","method":"notifications/initialized"}').kind).toBe('notification');
    expect(parseFrame('{"jsonrpc":"2.0","id":"a","result":{}}').kind).toBe('response');
  });

  it('answers malformed JSON with -32700 and invalid requests with -32600 keeping the id', () => {
    expect(rejectionFor(parseFrame('{nope'))?.error?.code).toBe(ErrorCode.ParseError);
    const invalid = rejectionFor(parseFrame('{"jsonrpc":"2.0","id":7,"method":5}'));
    expect(invalid?.error?.code).toBe(ErrorCode.InvalidRequest);
    expect(invalid?.id).toBe(7);
    expect(rejectionFor(parseFrame('[1,2]'))?.error?.code).toBe(ErrorCode.InvalidRequest);
    expect(rejectionFor(parseFrame('{"jsonrpc":"1.0","id":1,"method":"x"}'))?.error?.code).toBe(
      ErrorCode.InvalidRequest,
    );
    expect(rejectionFor(parseFrame('{"jsonrpc":"2.0","id":{},"method":"x"}'))?.id).toBe(null);
    expect(rejectionFor(parseFrame('{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}'))?.error?.code).toBe(
      ErrorCode.InvalidRequest,
    );
  });
});

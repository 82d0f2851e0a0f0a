import { describe, expect, it } from 'vitest';
import { isUnderSystemd, JOURNAL_PRIORITY, journalLine } from '../../../src/systemd/index.js';

describe('isUnderSystemd', () => {
  it('is true when systemd set INVOCATION_ID or JOURNAL_STREAM', () => {
    expect(isUnderSystemd({ INVOCATION_ID: 'a1b2' })).toBe(true);
    expect(isUnderSystemd({ JOURNAL_STREAM: '8:12345' })).toBe(true);
  });

  it('is false in a plain shell', () => {
    expect(isUnderSystemd({ HOME: '/home/me', INVOCATION_ID: '' })).toBe(false);
  });
});

describe('journalLine', () => {
  it('prefixes the syslog priority journald reads', () => {
    expect(journalLine('err', 'child crashed')).toBe('<3>child crashed');
    expect(journalLine('warning', 'slow')).toBe('<4>slow');
    expect(journalLine('info', 'started')).toBe('<6>started');
    expect(journalLine('debug', 'tick')).toBe('<7>tick');
    expect(JOURNAL_PRIORITY).toEqual({ err: 3, warning: 4, info: 6, debug: 7 });
  });

  it('prefixes every line, since journald files each line as its own entry', () => {
    expect(journalLine('err', 'failed\n  at spawn')).toBe('<3>failed\n<3>  at spawn');
  });
});

import { LRUCache } from 'lru-cache';
import { describe, expect, it } from 'vitest';
import { AdmissionLru } from '../../../src/cache/index.js';

interface Value {
  bytes: number;
  dead?: boolean;
}

describe('AdmissionLru', () => {
  it('never holds more bytes than its budget', () => {
    const cache = new AdmissionLru<Value>({ maxBytes: 10_000 });
    for (let i = 0; i < 5_000; i++) {
      const key = `k${i % 700}`;
      if (cache.get(key) === undefined) cache.set(key, { bytes: 10 + (i % 300) });
      expect(cache.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(cache.set('huge', { bytes: 10_001 })).toBe(false);
  });

  it('keeps popular entries through a scan of one-off keys that flushes a plain LRU', () => {
    const cache = new AdmissionLru<Value>({ maxBytes: 100 * 10 });
    const plain = new LRUCache<string, Value>({ max: 100 });
    const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
    const touch = (key: string) => {
      if (cache.get(key) === undefined) cache.set(key, { bytes: 10 });
      if (plain.get(key) === undefined) plain.set(key, { bytes: 10 });
    };
    for (let round = 0; round < 5; round++) for (const key of hot) touch(key);
    for (let i = 0; i < 1_000; i++) touch(`scan${i}`);
    expect(hot.filter((key) => plain.has(key))).toHaveLength(0);
    expect(hot.filter((key) => cache.get(key) !== undefined)).toHaveLength(hot.length);
  });

  it('evicts dead entries first, whatever their popularity', () => {
    const cache = new AdmissionLru<Value>({ maxBytes: 30, isDead: (value) => value.dead === true });
    const popular: Value = { bytes: 10 };
    for (let i = 0; i < 10; i++) {
      cache.get('popular');
      cache.set('popular', popular);
    }
    cache.set('b', { bytes: 10 });
    cache.set('c', { bytes: 10 });
    popular.dead = true;
    // 'popular' is the least recently used and dead: a new key takes its place although it was requested once.
    cache.get('d');
    expect(cache.set('d', { bytes: 10 })).toBe(true);
    expect(cache.get('popular')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
  });
});

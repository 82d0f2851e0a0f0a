import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ContextStore, toFtsQuery } from '../../../src/children/context/index.js';
import { openStore } from '../../../src/children/shared/index.js';

const dbs: Database.Database[] = [];

function makeStore(options: ConstructorParameters<typeof ContextStore>[1] = {}): ContextStore {
  const db = openStore(':memory:');
  dbs.push(db);
  return new ContextStore(db, options);
}

afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

describe('ContextStore', () => {
  it('drops the oldest ephemeral contexts beyond its cap and keeps persistent ones', () => {
    let tick = 0;
    const store = makeStore({ maxEphemeral: 2, now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, tick++)) });
    const pinned = store.store('project', 'pinned');
    const ids = ['one', 'two', 'three'].map((text) => store.store('ephemeral', text).id);
    const left = store.retrieve({ level: 'ephemeral', limit: 10 }).map((c) => c.id);
    expect(left).toEqual([ids[2], ids[1]]);
    expect(store.retrieve({ query: 'one', limit: 10 })).toEqual([]);
    expect(store.retrieve({ limit: 10 }).map((c) => c.id)).toEqual([ids[2], ids[1], pinned.id]);
  });

  it('rejects a cap that is not a positive integer', () => {
    expect(() => makeStore({ maxEphemeral: 0 })).toThrow('Expected `maxEphemeral` to be an integer >= 1, got `0`');
  });

  it('stamps contexts and snapshots with the injected clock', () => {
    const store = makeStore({ now: () => new Date('2030-05-06T07:08:09.000Z') });
    expect(store.store('memory', 'x').createdAt).toBe('2030-05-06T07:08:09.000Z');
    expect(store.snapshot().name).toBe('snapshot-2030-05-06T07:08:09.000Z');
    expect(store.snapshot().name).toBe('snapshot-2030-05-06T07:08:09.000Z-2');
  });
});

describe('toFtsQuery', () => {
  it('quotes every word so FTS5 operators and punctuation in a query are searched literally', () => {
    expect(toFtsQuery('NEAR(auth OR "token") -x*')).toBe('"NEAR" OR "auth" OR "OR" OR "token" OR "x"');
    expect(toFtsQuery('café_au-lait')).toBe('"café" OR "au" OR "lait"');
    expect(toFtsQuery('?!')).toBeUndefined();
  });
});

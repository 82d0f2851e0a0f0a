import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type Entity, GraphStore } from '../../../src/children/memory/index.js';
import { openStore } from '../../../src/children/shared/index.js';

const stores: Database.Database[] = [];

function makeStore(): GraphStore {
  const db = openStore(':memory:');
  stores.push(db);
  return new GraphStore(db);
}

afterEach(() => {
  for (const db of stores.splice(0)) db.close();
});

/** The reference server's search predicate, verbatim in meaning. */
function referenceMatches(entity: Entity, query: string): boolean {
  const q = query.toLowerCase();
  return (
    entity.name.toLowerCase().includes(q) ||
    entity.entityType.toLowerCase().includes(q) ||
    entity.observations.some((o) => o.toLowerCase().includes(q))
  );
}

// A small alphabet makes substring hits frequent, with letters whose case mapping is not one-to-one.
const ALPHABET = ['a', 'B', 'c', 'É', 'é', 'İ', 'ß', 'Σ', 'ς', ' ', '"', '%', '_', '*', '😀'];
const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 8 }).map((chars) => chars.join(''));
const entity = fc.record({ name: text, entityType: text, observations: fc.array(text, { maxLength: 4 }) });

describe('GraphStore.searchNodes', () => {
  it('returns exactly the entities the reference substring search returns, for any graph and query', () => {
    fc.assert(
      fc.property(fc.array(entity, { maxLength: 12 }), text, (entities, query) => {
        const store = makeStore();
        const created = store.createEntities(entities);
        const expected = created.filter((e) => referenceMatches(e, query)).map((e) => e.name);
        const found = store.searchNodes(query).entities.map((e) => e.name);
        expect(found.sort()).toEqual(expected.sort());
      }),
      { numRuns: 300 },
    );
  });

  it('stays exact after observations are added and deleted', () => {
    const store = makeStore();
    store.createEntities([{ name: 'n1', entityType: 't', observations: ['alpha beta'] }]);
    store.addObservations([{ entityName: 'n1', contents: ['gamma delta'] }]);
    expect(store.searchNodes('mma de').entities.map((e) => e.name)).toEqual(['n1']);
    store.deleteObservations([{ entityName: 'n1', observations: ['gamma delta'] }]);
    expect(store.searchNodes('mma de').entities).toEqual([]);
    store.deleteEntities(['n1']);
    expect(store.searchNodes('alpha').entities).toEqual([]);
    expect(store.searchNodes('n').entities).toEqual([]);
  });

  it('returns the relations touching a match, including those to entities outside the result', () => {
    const store = makeStore();
    store.createEntities([
      { name: 'left', entityType: 't', observations: ['needle'] },
      { name: 'right', entityType: 't', observations: [] },
    ]);
    store.createRelations([
      { from: 'left', to: 'right', relationType: 'r' },
      { from: 'right', to: 'right', relationType: 'self' },
    ]);
    expect(store.searchNodes('needle')).toEqual({
      entities: [{ name: 'left', entityType: 't', observations: ['needle'] }],
      relations: [{ from: 'left', to: 'right', relationType: 'r' }],
    });
  });
});

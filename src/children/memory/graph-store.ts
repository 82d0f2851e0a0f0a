import type Database from 'better-sqlite3';
import { applySchema } from '../shared/store.js';

/** One node of the knowledge graph, shaped as the reference memory server shapes it. */
export interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}

/** One directed, typed edge between two entity names. */
export interface Relation {
  from: string;
  to: string;
  relationType: string;
}

/** A whole graph or a part of it. */
export interface KnowledgeGraph {
  entities: Entity[];
  relations: Relation[];
}

/** The observations added to one entity by add_observations. */
export interface AddedObservations {
  entityName: string;
  addedObservations: string[];
}

/** The schema version this module writes; bumped with every change to SCHEMA_SQL. */
const SCHEMA_VERSION = 1;

/** Queries shorter than this many code points cannot use the trigram index and are scanned instead. */
const TRIGRAM_MIN_CHARS = 3;

/** bm25 column weights for entity matches: a hit in the name outranks one in the type (and in an observation). */
const NAME_WEIGHT = 10;
const TYPE_WEIGHT = 3;

// The FTS tables hold lowercased copies (JavaScript's toLowerCase) with rowids equal to the
// entity and observation ids, so a trigram phrase match is exactly the reference server's
// case-insensitive substring test, and rows are removed by rowid in the same transaction.
const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS entities (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  entity_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
  id INTEGER PRIMARY KEY,
  entity_id INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  content TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_by_entity ON observations(entity_id, content);
CREATE TABLE IF NOT EXISTS relations (
  id INTEGER PRIMARY KEY,
  from_name TEXT NOT NULL,
  to_name TEXT NOT NULL,
  relation_type TEXT NOT NULL,
  UNIQUE (from_name, to_name, relation_type)
);
CREATE INDEX IF NOT EXISTS relations_by_to ON relations(to_name);
CREATE VIRTUAL TABLE IF NOT EXISTS entity_fts USING fts5(name, entity_type, tokenize = 'trigram case_sensitive 1');
CREATE VIRTUAL TABLE IF NOT EXISTS observation_fts
  USING fts5(content, entity_id UNINDEXED, tokenize = 'trigram case_sensitive 1');
`;

interface EntityRow {
  id: number;
  name: string;
  entity_type: string;
}

interface RelationRow {
  from_name: string;
  to_name: string;
  relation_type: string;
}

/** Creates the knowledge-graph tables in `db` when missing; refuses a store written by a newer version. */
export function ensureGraphSchema(db: Database.Database): void {
  applySchema(db, 'memory', SCHEMA_VERSION, SCHEMA_SQL);
}

/** Quotes a search string as one FTS5 phrase, so every character is matched literally. */
function toFtsPhrase(query: string): string {
  return `"${query.replaceAll('"', '""')}"`;
}

function toRelation(row: RelationRow): Relation {
  return { from: row.from_name, to: row.to_name, relationType: row.relation_type };
}

/** The knowledge graph kept in SQLite; every public method is one transaction. */
export class GraphStore {
  readonly #db: Database.Database;
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#db = db;
    ensureGraphSchema(db);
    this.#stmt = {
      entityByName: db.prepare<[string], EntityRow>('SELECT id, name, entity_type FROM entities WHERE name = ?'),
      insertEntity: db.prepare<[string, string]>('INSERT OR IGNORE INTO entities (name, entity_type) VALUES (?, ?)'),
      insertEntityFts: db.prepare<[number | bigint, string, string]>(
        'INSERT INTO entity_fts (rowid, name, entity_type) VALUES (?, ?, ?)',
      ),
      deleteEntity: db.prepare<[number]>('DELETE FROM entities WHERE id = ?'),
      deleteEntityFts: db.prepare<[number]>('DELETE FROM entity_fts WHERE rowid = ?'),
      insertObservation: db.prepare<[number, string]>('INSERT INTO observations (entity_id, content) VALUES (?, ?)'),
      insertObservationFts: db.prepare<[number | bigint, string, number]>(
        'INSERT INTO observation_fts (rowid, content, entity_id) VALUES (?, ?, ?)',
      ),
      hasObservation: db
        .prepare<[number, string], number>('SELECT 1 FROM observations WHERE entity_id = ? AND content = ? LIMIT 1')
        .pluck(),
      deleteObservation: db
        .prepare<[number, string], number>('DELETE FROM observations WHERE entity_id = ? AND content = ? RETURNING id')
        .pluck(),
      deleteEntityObservationsFts: db.prepare<[number]>(
        'DELETE FROM observation_fts WHERE rowid IN (SELECT id FROM observations WHERE entity_id = ?)',
      ),
      deleteObservationFts: db.prepare<[number]>('DELETE FROM observation_fts WHERE rowid = ?'),
      insertRelation: db.prepare<[string, string, string]>(
        'INSERT OR IGNORE INTO relations (from_name, to_name, relation_type) VALUES (?, ?, ?)',
      ),
      deleteRelation: db.prepare<[string, string, string]>(
        'DELETE FROM relations WHERE from_name = ? AND to_name = ? AND relation_type = ?',
      ),
      deleteRelationsTouching: db.prepare<[string, string]>('DELETE FROM relations WHERE from_name = ? OR to_name = ?'),
      allEntities: db.prepare<[], EntityRow>('SELECT id, name, entity_type FROM entities ORDER BY id'),
      allObservations: db.prepare<[], { entity_id: number; content: string }>(
        'SELECT entity_id, content FROM observations ORDER BY id',
      ),
      allRelations: db.prepare<[], RelationRow>('SELECT from_name, to_name, relation_type FROM relations ORDER BY id'),
      entityById: db.prepare<[number], EntityRow>('SELECT id, name, entity_type FROM entities WHERE id = ?'),
      entitiesByName: db.prepare<[string], EntityRow>(
        'SELECT id, name, entity_type FROM entities WHERE name IN (SELECT value FROM json_each(?)) ORDER BY id',
      ),
      observationsOf: db
        .prepare<[number], string>('SELECT content FROM observations WHERE entity_id = ? ORDER BY id')
        .pluck(),
      relationsTouching: db.prepare<[string, string], RelationRow>(
        `SELECT from_name, to_name, relation_type FROM relations WHERE id IN (
           SELECT id FROM relations WHERE from_name IN (SELECT value FROM json_each(?))
           UNION SELECT id FROM relations WHERE to_name IN (SELECT value FROM json_each(?))
         ) ORDER BY id`,
      ),
      entityHits: db.prepare<[string], { entity_id: number; score: number }>(
        `SELECT rowid AS entity_id, bm25(entity_fts, ${NAME_WEIGHT}, ${TYPE_WEIGHT}) AS score
         FROM entity_fts WHERE entity_fts MATCH ?`,
      ),
      observationHits: db.prepare<[string], { entity_id: number; score: number }>(
        'SELECT entity_id, bm25(observation_fts) AS score FROM observation_fts WHERE observation_fts MATCH ?',
      ),
      scanEntities: db
        .prepare<{ q: string }, number>(
          `SELECT rowid FROM entity_fts WHERE instr(name, @q) > 0 OR instr(entity_type, @q) > 0
           UNION SELECT entity_id FROM observation_fts WHERE instr(content, @q) > 0
           ORDER BY 1`,
        )
        .pluck(),
    };
  }

  /** Adds entities whose names are new; returns those added (a name repeated in one call is added once). */
  createEntities(entities: readonly Entity[]): Entity[] {
    return this.#db.transaction(() => {
      const created: Entity[] = [];
      for (const entity of entities) {
        const info = this.#stmt.insertEntity.run(entity.name, entity.entityType);
        if (info.changes === 0) continue;
        const id = Number(info.lastInsertRowid);
        this.#stmt.insertEntityFts.run(id, entity.name.toLowerCase(), entity.entityType.toLowerCase());
        for (const content of entity.observations) this.#insertObservation(id, content);
        created.push(entity);
      }
      return created;
    })();
  }

  /** Adds relations not already present; returns those added (a relation repeated in one call is added once). */
  createRelations(relations: readonly Relation[]): Relation[] {
    return this.#db.transaction(() =>
      relations.filter((r) => this.#stmt.insertRelation.run(r.from, r.to, r.relationType).changes > 0),
    )();
  }

  /** Appends observations an entity does not have yet; fails as a whole when an entity is missing. */
  addObservations(additions: readonly { entityName: string; contents: string[] }[]): AddedObservations[] {
    return this.#db.transaction(() =>
      additions.map(({ entityName, contents }) => {
        const entity = this.#stmt.entityByName.get(entityName);
        if (!entity) throw new Error(`Entity with name ${entityName} not found`);
        const added = contents.filter((content) => this.#stmt.hasObservation.get(entity.id, content) === undefined);
        for (const content of added) this.#insertObservation(entity.id, content);
        return { entityName, addedObservations: added };
      }),
    )();
  }

  /** Removes entities, their observations and every relation that starts or ends at them. */
  deleteEntities(names: readonly string[]): void {
    this.#db.transaction(() => {
      for (const name of names) {
        const entity = this.#stmt.entityByName.get(name);
        if (entity) {
          this.#stmt.deleteEntityObservationsFts.run(entity.id);
          this.#stmt.deleteEntityFts.run(entity.id);
          this.#stmt.deleteEntity.run(entity.id);
        }
        this.#stmt.deleteRelationsTouching.run(name, name);
      }
    })();
  }

  /** Removes the given observations from entities; unknown entities and observations are ignored. */
  deleteObservations(deletions: readonly { entityName: string; observations: string[] }[]): void {
    this.#db.transaction(() => {
      for (const { entityName, observations } of deletions) {
        const entity = this.#stmt.entityByName.get(entityName);
        if (!entity) continue;
        for (const content of observations) {
          for (const id of this.#stmt.deleteObservation.all(entity.id, content)) {
            this.#stmt.deleteObservationFts.run(id);
          }
        }
      }
    })();
  }

  /** Removes the given relations; unknown ones are ignored. */
  deleteRelations(relations: readonly Relation[]): void {
    this.#db.transaction(() => {
      for (const r of relations) this.#stmt.deleteRelation.run(r.from, r.to, r.relationType);
    })();
  }

  /** The whole graph, entities and relations in the order they were created. */
  readGraph(): KnowledgeGraph {
    return this.#db.transaction(() => {
      const rows = this.#stmt.allEntities.all();
      const observations = new Map<number, string[]>(rows.map((row) => [row.id, []]));
      for (const { entity_id, content } of this.#stmt.allObservations.iterate()) {
        observations.get(entity_id)?.push(content);
      }
      return {
        entities: rows.map((row) => ({
          name: row.name,
          entityType: row.entity_type,
          observations: observations.get(row.id) ?? [],
        })),
        relations: this.#stmt.allRelations.all().map(toRelation),
      };
    })();
  }

  /**
   * Entities whose name, type or an observation contains `query` (case-insensitive), best bm25 match first,
   * with every relation that starts or ends at one of them.
   */
  searchNodes(query: string): KnowledgeGraph {
    return this.#db.transaction(() => {
      const q = query.toLowerCase();
      if ([...q].length < TRIGRAM_MIN_CHARS) return this.#subgraph(this.#stmt.scanEntities.all({ q }));
      // bm25 is negative, lower is better: an entity's score sums its name/type hit and its observation hits.
      const phrase = toFtsPhrase(q);
      const scores = new Map<number, number>();
      for (const hits of [this.#stmt.entityHits.all(phrase), this.#stmt.observationHits.all(phrase)]) {
        for (const { entity_id, score } of hits) scores.set(entity_id, (scores.get(entity_id) ?? 0) + score);
      }
      const ranked = [...scores].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
      return this.#subgraph(ranked);
    })();
  }

  /** The named entities (in creation order) with every relation that starts or ends at one of them. */
  openNodes(names: readonly string[]): KnowledgeGraph {
    return this.#db.transaction(() => {
      const rows = this.#stmt.entitiesByName.all(JSON.stringify(names));
      return this.#subgraph(rows.map((row) => row.id));
    })();
  }

  #insertObservation(entityId: number, content: string): void {
    const id = this.#stmt.insertObservation.run(entityId, content).lastInsertRowid;
    this.#stmt.insertObservationFts.run(id, content.toLowerCase(), entityId);
  }

  /** Entities with the given ids, in that order, and the relations touching them. */
  #subgraph(ids: readonly number[]): KnowledgeGraph {
    const entities: Entity[] = [];
    for (const id of ids) {
      const row = this.#stmt.entityById.get(id);
      if (row)
        entities.push({ name: row.name, entityType: row.entity_type, observations: this.#stmt.observationsOf.all(id) });
    }
    const namesJson = JSON.stringify(entities.map((e) => e.name));
    return { entities, relations: this.#stmt.relationsTouching.all(namesJson, namesJson).map(toRelation) };
  }
}

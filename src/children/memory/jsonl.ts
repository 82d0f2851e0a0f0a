import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { OmnimindError } from '../../protocol/index.js';
import { openStore } from '../shared/index.js';
import { type Entity, GraphStore, type Relation } from './graph-store.js';
import { isWellFormedText } from './limits.js';

/** The file name of the memory store inside the data directory. */
export const MEMORY_DB_FILE = 'memory.db';

/** How many records an import read or an export wrote. */
export interface TransferCounts {
  entities: number;
  relations: number;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && isWellFormedText(value);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new OmnimindError('MEMORY_IMPORT_FAILED', `Could not read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Checks one parsed JSONL line; returns the record or throws saying which line is wrong and why. */
function parseRecord(line: string, where: string): Entity | Relation | null {
  let item: unknown;
  try {
    item = JSON.parse(line);
  } catch (error) {
    throw new OmnimindError('MEMORY_IMPORT_INVALID', `${where}: not valid JSON (${(error as Error).message})`);
  }
  const record = (item ?? {}) as Record<string, unknown>;
  if (record.type === 'entity') {
    const { name, entityType, observations } = record;
    if (isText(name) && isText(entityType) && Array.isArray(observations) && observations.every(isText)) {
      return { name, entityType, observations };
    }
    throw new OmnimindError(
      'MEMORY_IMPORT_INVALID',
      `${where}: an entity needs string "name" and "entityType" and an array of strings "observations"`,
    );
  }
  if (record.type === 'relation') {
    const { from, to, relationType } = record;
    if (isText(from) && isText(to) && isText(relationType)) return { from, to, relationType };
    throw new OmnimindError(
      'MEMORY_IMPORT_INVALID',
      `${where}: a relation needs string "from", "to" and "relationType"`,
    );
  }
  return null;
}

/**
 * Merges a reference-memory-server JSONL file into the graph in one transaction: new entities and relations are
 * added, existing entities gain the observations they lack. Lines of other types are skipped, as that server does.
 * Returns how many entity and relation records the file held.
 */
export function importJsonl(db: Database.Database, file: string): TransferCounts {
  const lines = readText(file).split('\n');
  const entities: Entity[] = [];
  const relations: Relation[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const record = parseRecord(line, `${file}:${index + 1}`);
    if (record && 'entityType' in record) entities.push(record);
    else if (record) relations.push(record);
  });
  const store = new GraphStore(db);
  db.transaction(() => {
    store.createEntities(entities);
    store.addObservations(entities.map((e) => ({ entityName: e.name, contents: e.observations })));
    store.createRelations(relations);
  })();
  return { entities: entities.length, relations: relations.length };
}

/** Writes the whole graph in the reference server's JSONL format, to a temporary file renamed over `file`. */
export function exportJsonl(db: Database.Database, file: string): TransferCounts {
  const graph = new GraphStore(db).readGraph();
  const lines = [
    ...graph.entities.map((e) =>
      JSON.stringify({ type: 'entity', name: e.name, entityType: e.entityType, observations: e.observations }),
    ),
    ...graph.relations.map((r) =>
      JSON.stringify({ type: 'relation', from: r.from, to: r.to, relationType: r.relationType }),
    ),
  ];
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, lines.join('\n'));
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new OmnimindError('MEMORY_EXPORT_FAILED', `Could not write ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { entities: graph.entities.length, relations: graph.relations.length };
}

/** Imports a JSONL file into, or exports it from, the memory store in `dataDir` (`omnimind memory import|export`). */
export function runMemoryTransfer(direction: 'import' | 'export', file: string, dataDir: string): TransferCounts {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openStore(join(dataDir, MEMORY_DB_FILE));
  try {
    return direction === 'import' ? importJsonl(db, file) : exportJsonl(db, file);
  } finally {
    db.close();
  }
}

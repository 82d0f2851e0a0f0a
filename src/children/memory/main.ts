import { join } from 'node:path';
import { childDataDir, openStore, serveStdio, startChild } from '../shared/index.js';
import { GraphStore } from './graph-store.js';
import { MEMORY_DB_FILE } from './jsonl.js';
import { createMemoryServer } from './server.js';

const db = openStore(join(childDataDir(), MEMORY_DB_FILE));
startChild('memory', () =>
  serveStdio(createMemoryServer(new GraphStore(db)), () => {
    db.close();
  }),
);

import { join } from 'node:path';
import { childDataDir, openStore, serveStdio, startChild } from '../shared/index.js';
import { CONTEXT_DB_FILE, ContextStore } from './context-store.js';
import { createContextServer } from './server.js';

const db = openStore(join(childDataDir(), CONTEXT_DB_FILE));
startChild('context', () =>
  serveStdio(createContextServer(new ContextStore(db)), () => {
    db.close();
  }),
);

import { join } from 'node:path';
import { childDataDir, openStore, serveStdio } from '../shared/index.js';
import { CONTEXT_DB_FILE, ContextStore } from './context-store.js';
import { createContextServer } from './server.js';

const db = openStore(join(childDataDir(), CONTEXT_DB_FILE));
await serveStdio(createContextServer(new ContextStore(db)), () => {
  db.close();
});

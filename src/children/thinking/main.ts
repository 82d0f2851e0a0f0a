import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { childDataDir, openStore, serveStdio, startChild } from '../shared/index.js';
import { createThinkingServer } from './server.js';
import { SessionStore, THINKING_DB_FILE } from './session-store.js';

const db = openStore(join(childDataDir(), THINKING_DB_FILE));
// One default session per run, as the reference server keeps one history per process.
const currentSessionId = `${new Date().toISOString()}-${randomBytes(3).toString('hex')}`;
startChild('thinking', () =>
  serveStdio(createThinkingServer(new SessionStore(db, { currentSessionId })), () => {
    db.close();
  }),
);

import { readChildConfig, serveStdio, startChild } from '../shared/index.js';
import { createFilesystemServer } from './server.js';

const config = readChildConfig<{ roots: string[] }>();
startChild('filesystem', async () =>
  serveStdio(await createFilesystemServer({ roots: Array.isArray(config.roots) ? config.roots : [] })),
);

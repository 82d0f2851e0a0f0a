import { readChildConfig, serveStdio } from '../shared/index.js';
import { createFilesystemServer } from './server.js';

const config = readChildConfig<{ roots: string[] }>();
await serveStdio(await createFilesystemServer({ roots: Array.isArray(config.roots) ? config.roots : [] }));

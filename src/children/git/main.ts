import { readChildConfig, serveStdio, startChild } from '../shared/index.js';
import { createGitServer } from './server.js';

const config = readChildConfig<{ repositories: string[] }>();
startChild('git', async () =>
  serveStdio(await createGitServer({ repositories: Array.isArray(config.repositories) ? config.repositories : [] })),
);

import { readChildConfig, serveStdio } from '../shared/index.js';
import { createGitServer } from './server.js';

const config = readChildConfig<{ repositories: string[] }>();
await serveStdio(
  await createGitServer({ repositories: Array.isArray(config.repositories) ? config.repositories : [] }),
);

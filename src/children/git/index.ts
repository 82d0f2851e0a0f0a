export { AllowedRepositories } from './repositories.js';
export { assertNotOption, resolveCommit, resolveDiffTarget } from './revisions.js';
export { type GitOutput, type RunGitOptions, runGit, scrubGitEnv } from './run-git.js';
export { createGitServer, type GitServerOptions } from './server.js';
export { COMMIT_FORMAT } from './tools-inspect.js';

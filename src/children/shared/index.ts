export { childDataDir, readChildConfig, startChild } from './child-env.js';
export { guardTool, jsonResult, textResult, toolError } from './results.js';
export { serveStdio } from './runtime.js';
export { applySchema, openStore } from './store.js';
export { acceptResourceSubscriptions } from './subscriptions.js';

export { guardTool, jsonResult, textResult, toolError } from './results.js';
export { childDataDir, readChildConfig, serveStdio } from './runtime.js';
export { applySchema, openStore } from './store.js';
export { acceptResourceSubscriptions } from './subscriptions.js';

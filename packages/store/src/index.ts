// Public surface of @apigov/store: `openStore` and the contract it implements.
export * from './types.js';
export { openStore, DEFAULT_DATA_DIR } from './store.js';
export { migrations, type Migration } from './migrations.js';

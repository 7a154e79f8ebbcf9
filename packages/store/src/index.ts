// Public surface of @apigov/store.
export * from './types.js';

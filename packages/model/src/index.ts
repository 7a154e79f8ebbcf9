// Public surface of @apigov/model: resource kinds, validation, lifecycle and error codes.
export * from './errors.js';
export * from './names.js';
export * from './resource.js';
export * from './kinds.js';
export * from './lifecycle.js';
export * from './access.js';
export * from './identity.js';
export * from './webhook.js';
export * from './validate.js';
export * from './policy.js';
export * from './consumption.js';
export * from './snapshot.js';
export * from './audit-anchor.js';

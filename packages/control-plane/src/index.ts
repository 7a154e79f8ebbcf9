// Public surface of @apigov/control-plane.
export { buildControlPlane, routesOf, snapshotsOf, catalogStoreOf, BODY_LIMIT, type ControlPlaneOptions } from './app.js';
export { SnapshotService } from './snapshot/service.js';
export { startControlPlane, type RunningControlPlane, type StartOptions } from './server.js';
export { loadDemo, type DemoTokens, type DemoOptions } from './demo.js';
export { controlPlaneOpenApi, operationsTable } from './openapi.js';
export { hashToken, newToken, type Principal } from './auth.js';

// Public surface of @apigov/gateway: startGateway and its types, the snapshot hash, the policy contract and
// counter stores (for `apigov up`, the CLI and benchmarks).
export { startGateway, type Gateway, type GatewayOptions, type GatewayStats } from './gateway.js';
export { computeSnapshotHash, verifySnapshot, SnapshotRefusedError } from './snapshot.js';
export { compileSnapshot, type CompiledSnapshot, type CompiledRoute, type CompiledPipeline } from './compile.js';
export { definePolicy, PHASES, type Phase, type RequestContext, type PolicyDefinition, type PolicyDeps, type CompiledPolicy, type Consumer } from './policy.js';
export { pipelinePolicies } from './policies/index.js';
export type { CounterStore, WindowHit } from './counters/types.js';
export { MemoryCounterStore } from './counters/memory.js';
export { RedisCounterStore } from './counters/redis.js';
export { parseGatewayArgs, main as runGatewayCommand, USAGE as GATEWAY_USAGE } from './main.js';
export type { SnapshotStatus } from './admin.js';
export { snapshotUrl, SNAPSHOT_WAIT_SECONDS } from './snapshot-client.js';
export { ENVOY_ENFORCED, GATEWAY_MODES, type GatewayMode } from './ext-authz.js';
export { CONSUMER_HEADER } from './upstream.js';

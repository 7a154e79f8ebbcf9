// Counter stores for rate limits and quotas: exact in one process (memory) or cluster-wide (Redis).
export { CounterUnavailableError, type CounterStore, type WindowHit } from './types.js';
export { MemoryCounterStore, type MemoryCounterStoreOptions } from './memory.js';
export { RedisCounterStore, type RedisCounterStoreOptions } from './redis.js';

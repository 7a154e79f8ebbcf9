// The request validators' cache across snapshots: it must never start afresh in the middle of a snapshot
// compile (a route's $refs point into schema documents registered just before), only between compiles.
import { describe, expect, it } from 'vitest';
import { ValidatorCache } from '../src/policies/request-validation.js';

const schemas = { Item: { type: 'object', required: ['id'], properties: { id: { type: 'integer' } } } };

describe('validator cache', () => {
  it('compiles more validators than it keeps within one snapshot, $refs intact, then starts afresh before the next', () => {
    const cache = new ValidatorCache(2);
    cache.beginSnapshot();
    const doc = cache.schemasDocument(schemas);
    const validators = Array.from({ length: 5 }, (_, i) =>
      cache.compile({ type: 'object', properties: { item: { $ref: `${doc}#/$defs/Item` }, [`n${i}`]: { type: 'string' } } }, false),
    );
    cache.endSnapshot();
    for (const v of validators) {
      expect(v({ item: { id: 1 } })).toBe(true);
      expect(v({ item: { id: 'x' } })).toBe(false);
    }
    expect(cache.size).toBe(5);
    // the next snapshot uses one of them: 5 > max(2, 2×5) is false, so the cache is kept (reloads stay cheap)
    cache.beginSnapshot();
    expect(cache.size).toBe(5);
    const again = cache.compile({ type: 'object', properties: { item: { $ref: `${cache.schemasDocument(schemas)}#/$defs/Item` }, n0: { type: 'string' } } }, false);
    cache.endSnapshot();
    expect(again({ item: { id: 2 } })).toBe(true);
    // it used 1, holds 5 > max(2, 2×1): the snapshot after that starts afresh, and its refs still resolve
    cache.beginSnapshot();
    expect(cache.size).toBe(0);
    const fresh = cache.compile({ type: 'object', properties: { item: { $ref: `${cache.schemasDocument(schemas)}#/$defs/Item` } } }, false);
    cache.endSnapshot();
    expect(fresh({ item: { id: 3 } })).toBe(true);
    expect(fresh({ item: {} })).toBe(false);
  });
});

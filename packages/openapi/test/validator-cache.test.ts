// The request validators' cache across snapshots: it must never start afresh in the middle of a snapshot
// compile (a route's $refs point into schema documents registered just before), only between compiles.
import { describe, expect, it } from 'vitest';
import { ValidatorCache } from '../src/validators.js';

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

  it('compiles the validators of a snapshot in the background after it is applied, and reports a schema ajv refuses', async () => {
    const cache = new ValidatorCache();
    const refused: string[] = [];
    cache.onRefusedSchema = (m) => refused.push(m);
    cache.beginSnapshot();
    const good = Array.from({ length: 50 }, (_, i) => cache.compile({ type: 'object', properties: { [`f${i}`]: { type: 'integer' } } }, true));
    const bad = cache.compile({ type: 'string', pattern: '([unclosed' }, true);
    cache.endSnapshot();
    expect(cache.pending).toBe(51);
    expect(good.every((v) => !v.compiled)).toBe(true);
    // a request before the warm-up reaches its validator compiles it on the spot
    expect(good[0]!({ f0: 'x' })).toBe(false);
    expect(good[0]!.errors?.[0]?.instancePath).toBe('/f0');
    for (let i = 0; i < 200 && cache.pending > 0; i++) await new Promise((r) => setImmediate(r));
    expect(cache.pending).toBe(0);
    expect(good.every((v) => v.compiled)).toBe(true);
    expect(bad.compiled).toBe(false);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/could not compile a request schema/);
    // the operation with the refused schema fails its requests (the request path answers 500) instead of passing them
    expect(() => bad('x')).toThrow(/could not compile/);
  });
});

// The gateway's streamed snapshot hash is the control plane's: sha256 of model's canonicalJson of the snapshot
// without version, hash and generatedAt, for awkward content too (escapes, unicode, nesting, key order, large).
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { canonicalJson } from '@apigov/model';
import { computeSnapshotHash } from '../src/snapshot.js';

function expected(doc: Record<string, unknown>): string {
  const { version: _v, hash: _h, generatedAt: _g, ...content } = doc;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

describe('snapshot hash', () => {
  it('equals sha256 of canonicalJson, whatever the key order and content', () => {
    const doc: Record<string, unknown> = {
      version: 7,
      hash: 'x',
      generatedAt: '2026-01-01T00:00:00Z',
      zeta: { b: [1, 2.5, -0, 1e21, null, true, 'q"uo\\te\n'], a: { 'ключ': 'значение 😀', '': '' } },
      alpha: Array.from({ length: 5000 }, (_, i) => ({ id: `r${i}`, tags: ['x', `\u0001${i}`], n: i / 3 })),
    };
    expect(computeSnapshotHash(doc)).toBe(expected(doc));
    const reordered = { alpha: doc.alpha, generatedAt: 'other', zeta: doc.zeta, version: 8 };
    expect(computeSnapshotHash(reordered)).toBe(computeSnapshotHash(doc));
  });
});

// The advisory locks every store module shares: one class id, and keys derived from labels (no imports, so any
// module may use them without an import cycle through the migrations).
import { createHash } from 'node:crypto';

/** A 32-bit advisory lock key derived from a label (stable across processes and versions). */
export function lockKey(label: string): number {
  return createHash('sha256').update(label).digest().readInt32BE(0);
}

/** Classid of every advisory lock the store takes ('apig'). */
export const LOCK_CLASS = 0x61706967;

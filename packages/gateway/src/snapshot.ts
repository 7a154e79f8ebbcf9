// Accepting a snapshot: schema validation with model's `gatewaySnapshot` and the content-hash check.
// The hash is sha256 (hex) of canonicalJson of the snapshot as received, without version, hash and generatedAt.
import { createHash } from 'node:crypto';
import { canonicalJson, gatewaySnapshot, type GatewaySnapshot } from '@apigov/model';

/** Why a snapshot was refused; reported to the control plane and shown at /snapshot. */
export class SnapshotRefusedError extends Error {
  constructor(
    message: string,
    readonly version: number,
  ) {
    super(message);
    this.name = 'SnapshotRefusedError';
  }
}

/**
 * sha256 (hex) of canonicalJson(snapshot minus `version`, `hash`, `generatedAt`). canonicalJson sorts object keys at
 * every level and drops undefined members; arrays keep their order. Hash the document as sent (before defaults).
 */
export function computeSnapshotHash(snapshot: Record<string, unknown>): string {
  const content: Record<string, unknown> = {};
  for (const key of Object.keys(snapshot)) if (key !== 'version' && key !== 'hash' && key !== 'generatedAt') content[key] = snapshot[key];
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

function versionOf(raw: unknown): number {
  const v = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  return typeof v === 'number' && Number.isInteger(v) ? v : 0;
}

/** Validates a snapshot document (parsed JSON) and checks its hash; throws SnapshotRefusedError. */
export function verifySnapshot(raw: unknown): GatewaySnapshot {
  const version = versionOf(raw);
  const parsed = gatewaySnapshot.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first === undefined ? '' : `${first.path.join('.')}: `;
    throw new SnapshotRefusedError(`snapshot does not match the format: ${where}${first?.message ?? 'invalid'}${parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : ''}`, version);
  }
  const expected = computeSnapshotHash(raw as Record<string, unknown>);
  if (expected !== parsed.data.hash) throw new SnapshotRefusedError(`snapshot hash mismatch: content hashes to ${expected}, the snapshot says ${parsed.data.hash}`, version);
  return parsed.data as GatewaySnapshot;
}

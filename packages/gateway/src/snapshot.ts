// Accepting a snapshot: schema validation with model's `gatewaySnapshot` and the content-hash check.
// The hash is sha256 (hex) of canonicalJson of the snapshot as received, without version, hash and generatedAt.
import { createHash, type Hash } from 'node:crypto';
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
  const hash = createHash('sha256');
  new CanonicalWriter(hash).value(content);
  return hash.digest('hex');
}

/**
 * Streams exactly what model's canonicalJson(value) returns into a hash, for JSON data (plain objects, arrays,
 * strings, numbers, booleans, null), without building sorted copies of a large snapshot first. Anything else
 * (a Date, a class instance) goes through canonicalJson itself.
 */
class CanonicalWriter {
  /** text not hashed yet: appended to (V8 joins it lazily), handed to the hash every 64 K characters */
  private pending = '';

  constructor(private readonly hash: Hash) {}

  private out(s: string): void {
    this.pending += s;
    if (this.pending.length > 65_536) this.flush();
  }

  flush(): void {
    if (this.pending !== '') this.hash.update(this.pending);
    this.pending = '';
  }

  value(v: unknown): void {
    this.write(v);
    this.flush();
  }

  private write(v: unknown): void {
    if (v === null || typeof v !== 'object') {
      // top-level and array undefined/function/symbol: as JSON.stringify does
      this.out(JSON.stringify(v) ?? 'null');
      return;
    }
    if (Array.isArray(v)) {
      this.out('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.out(',');
        const item: unknown = v[i];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') this.out('null');
        else this.write(item);
      }
      this.out(']');
      return;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      this.out(canonicalJson(v));
      return;
    }
    const o = v as Record<string, unknown>;
    this.out('{');
    let first = true;
    for (const k of Object.keys(o).sort()) {
      const item = o[k];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      this.out(first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`);
      first = false;
      this.write(item);
    }
    this.out('}');
  }
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

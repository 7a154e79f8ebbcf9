// Per-snapshot lookup tables the auth policies share: built once per snapshot object (WeakMap), so 10,000
// routes compiling the same policy build them once (a load builds them ahead, between requests), and a
// swapped-out snapshot's tables go with it.
import { hash } from 'node:crypto';
import type { GatewaySnapshot } from '@apigov/model';
import type { Consumer } from '../policy.js';
import { runToEnd, type LoadSteps } from '../load-slices.js';

export interface ApiKeyEntry {
  /** the consumer a request authenticated by this key gets: one frozen object per key, never copied per request */
  readonly consumer: Readonly<Consumer>;
  /** epoch ms after which the key no longer works (end of a rotation overlap); Infinity when it does not expire */
  readonly expiresAt: number;
}

export interface SubscriptionEntry {
  readonly plan: string;
  /** epoch ms; Infinity when it does not expire */
  readonly expiresAt: number;
}

export interface SnapshotAuthTables {
  /** sha256 hex of the key → entry */
  readonly apiKeys: ReadonlyMap<string, ApiKeyEntry>;
  /** `issuer \n sub|cid \n value` → application */
  readonly jwtBindings: ReadonlyMap<string, string>;
  /** route id → application → subscription */
  readonly subscriptions: ReadonlyMap<string, ReadonlyMap<string, SubscriptionEntry>>;
  /** application → team ('' when the snapshot does not list the application) */
  teamOf(application: string): string;
  /** what did not parse (fails closed: an unparsable expiry counts as expired) */
  readonly problems: readonly string[];
}

const tables = new WeakMap<GatewaySnapshot, { tables: SnapshotAuthTables; warned: boolean }>();

/** `warn` hears about unparsable expiries once per snapshot, the first time a policy asks with one. */
export function authTables(snapshot: GatewaySnapshot, warn?: (message: string) => void): SnapshotAuthTables {
  let t = tables.get(snapshot);
  if (t === undefined) {
    t = { tables: runToEnd(buildTables(snapshot)), warned: false };
    tables.set(snapshot, t);
  }
  if (warn !== undefined && !t.warned) {
    t.warned = true;
    for (const p of t.tables.problems) warn(p);
  }
  return t.tables;
}

/** Builds a snapshot's tables ahead of its policies, as steps of a load (a large key index between requests). */
export function* prepareAuthTables(snapshot: GatewaySnapshot): LoadSteps<void> {
  if (tables.has(snapshot)) return;
  const built = yield* buildTables(snapshot);
  tables.set(snapshot, { tables: built, warned: false });
}

/** sha256 hex of keys presented lately: a key seen again skips the hash (bounded: forgotten all at once when full) */
const recentKeyHashes = new Map<string, string>();
const RECENT_KEY_HASHES = 10_000;

/** The lookup key of an API key: sha256, hex, as the control plane stores it. */
export function hashApiKey(key: string): string {
  let h = recentKeyHashes.get(key);
  if (h === undefined) {
    h = hash('sha256', key, 'hex');
    if (recentKeyHashes.size >= RECENT_KEY_HASHES) recentKeyHashes.clear();
    recentKeyHashes.set(key, h);
  }
  return h;
}

export function bindingKey(issuer: string, kind: 'sub' | 'cid', value: string): string {
  return `${issuer}\n${kind}\n${value}`;
}

function parseExpiry(value: string | undefined, what: string, problems: string[]): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    problems.push(`${what}: expiresAt ${JSON.stringify(value)} is not a date; treated as expired`);
    return Number.NEGATIVE_INFINITY;
  }
  return ms;
}

/** entries added to a table between yields */
const ENTRIES_PER_STEP = 1024;

function* buildTables(snapshot: GatewaySnapshot): LoadSteps<SnapshotAuthTables> {
  const problems: string[] = [];
  const consumers = snapshot.consumers;
  const teamOf = (application: string): string => (Object.hasOwn(consumers, application) ? consumers[application].team : '');

  const apiKeys = new Map<string, ApiKeyEntry>();
  for (const [digest, k] of Object.entries(snapshot.apiKeys)) {
    const consumer: Consumer = Object.freeze({ application: k.application, team: teamOf(k.application), credential: k.credential });
    apiKeys.set(digest, Object.freeze({ consumer, expiresAt: parseExpiry(k.expiresAt, `credential ${k.credential}`, problems) }));
    if (apiKeys.size % ENTRIES_PER_STEP === 0) yield;
  }

  const jwtBindings = new Map<string, string>();
  for (const b of snapshot.jwtBindings) {
    if (b.subject !== undefined) jwtBindings.set(bindingKey(b.issuer, 'sub', b.subject), b.application);
    if (b.clientId !== undefined) jwtBindings.set(bindingKey(b.issuer, 'cid', b.clientId), b.application);
  }

  const subscriptions = new Map<string, Map<string, SubscriptionEntry>>();
  let n = 0;
  for (const c of Object.values(consumers)) {
    if (++n % ENTRIES_PER_STEP === 0) yield;
    for (const [routeId, s] of Object.entries(c.subscriptions)) {
      let perRoute = subscriptions.get(routeId);
      if (perRoute === undefined) subscriptions.set(routeId, (perRoute = new Map()));
      perRoute.set(c.application, Object.freeze({ plan: s.plan, expiresAt: parseExpiry(s.expiresAt, `subscription of ${c.application} to ${routeId}`, problems) }));
    }
  }

  return { apiKeys, jwtBindings, subscriptions, teamOf, problems };
}

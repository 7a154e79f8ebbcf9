// A synthetic but realistic catalog of N APIs (owners, tags, visibilities, versions, environments, paths)
// for the search latency measurement; deterministic for a given seed.
import { parseResource, type LifecycleState } from '@apigov/model';
import type { ApiResource } from './fixtures.js';

const DOMAINS = [
  'payments', 'billing', 'invoices', 'refunds', 'ledger', 'accounts', 'customers', 'orders', 'shipping', 'inventory',
  'catalog', 'pricing', 'search', 'notifications', 'identity', 'sessions', 'profiles', 'reviews', 'loyalty', 'coupons',
  'fraud', 'risk', 'compliance', 'reporting', 'analytics', 'forecasts', 'warehouses', 'carriers', 'returns', 'subscriptions',
  'documents', 'messages', 'webhooks', 'schedules', 'bookings', 'payouts', 'merchants', 'stores', 'devices', 'sensors',
];
const QUALIFIERS = ['core', 'public', 'partner', 'internal', 'batch', 'realtime', 'legacy', 'edge', 'mobile', 'admin', 'export', 'sync'];
const VERBS = ['Create', 'List', 'Update', 'Cancel', 'Track', 'Reconcile', 'Query', 'Export', 'Validate', 'Approve', 'Archive', 'Notify'];
const NOUNS = ['records', 'events', 'batches', 'entries', 'items', 'requests', 'reports', 'transactions', 'jobs', 'tokens', 'limits', 'rules'];
const TEAMS = Array.from({ length: 60 }, (_, i) => `team-${['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'][i % 6]}-${i}`);
const TAGS = ['billing', 'finance', 'logistics', 'crm', 'pii', 'gdpr', 'open-data', 'partner', 'beta', 'ga', 'deprecated', 'grpc', 'rest', 'events', 'mobile', 'web', 'ml', 'search', 'security', 'ops'];
const ENVS = ['dev', 'staging', 'prod', 'sandbox'];
const STATES: LifecycleState[] = ['draft', 'published', 'published', 'published', 'deprecated', 'retired'];

/** Small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticCatalog(count: number, seed = 42): ApiResource[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: ApiResource[] = [];
  for (let i = 0; i < count; i++) {
    const domain = pick(DOMAINS);
    const qualifier = pick(QUALIFIERS);
    const name = `${domain}-${qualifier}-${i}`;
    const other = pick(DOMAINS);
    const versions = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, v) => {
      const paths = Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => `/${pick([domain, other])}/{id}/${pick(NOUNS)}`);
      paths.push(`/${domain}`);
      const environments: Record<string, { state: LifecycleState; upstream?: string }> = {};
      for (const env of ENVS) {
        if (rnd() < 0.55) {
          const state = pick(STATES);
          environments[env] = state === 'draft' ? { state } : { state, upstream: `http://127.0.0.1:${4100 + (i % 50)}` };
        }
      }
      return {
        name: `v${v + 1}`,
        openapi: {
          openapi: '3.1.0',
          info: { title: `${domain} ${qualifier}`, version: `${v + 1}.0.0` },
          paths: Object.fromEntries([...new Set(paths)].map((p) => [p, { get: { operationId: `op${p.replace(/[^A-Za-z0-9]/g, '')}`, responses: { '200': { description: 'OK' } } } }])),
        },
        environments,
      };
    });
    out.push(
      parseResource({
        apiVersion: 'apigov.dev/v1',
        kind: 'Api',
        metadata: { name },
        spec: {
          owner: pick(TEAMS),
          title: `${domain[0].toUpperCase()}${domain.slice(1)} ${qualifier} API`,
          description: `${pick(VERBS)} ${domain} ${pick(NOUNS)} and ${pick(VERBS).toLowerCase()} ${other} ${pick(NOUNS)} for the ${qualifier} channel.`,
          tags: [...new Set([pick(TAGS), pick(TAGS), pick(TAGS)].slice(0, 1 + Math.floor(rnd() * 3)))],
          visibility: pick(['public', 'internal', 'internal', 'team-only'] as const),
          versions,
        },
      }) as ApiResource,
    );
  }
  return out;
}

export const CATALOG_TEAMS = TEAMS;

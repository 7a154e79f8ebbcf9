// The demo world of `apigov up --demo`: teams payments, orders and platform; alex, bob and pooja with
// tokens; dev, staging and prod; plans; the governance ruleset; and the example payments API published to dev.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, parseResource, type AnyResource } from '@apigov/model';
import { loadSpec } from '@apigov/openapi';
import type { Store } from '@apigov/store';
import { hashToken, newToken, systemPrincipal, type Principal } from './auth.js';
import { auditView, writeResource } from './catalog/writes.js';
import { apiKeyCredential, newApiKey } from './consumption/keys.js';

export interface DemoTokens {
  [user: string]: string;
}

const SYSTEM: Principal = systemPrincipal('system:demo');

function res(kind: string, name: string, spec: Record<string, unknown>): AnyResource {
  return parseResource({ apiVersion: API_VERSION, kind, metadata: { name }, spec });
}

export interface DemoOptions {
  dataDir: string;
  paymentsSpecPath: string;
  paymentsUpstream: string;
  /** the portal's origin (the control plane's URL), allowed by the demo's CORS policies */
  portalOrigin?: string;
  /** base URL of each environment's gateway, when one is running */
  gatewayUrls?: Record<string, string>;
}

/** Loads the demo (creating only what is missing) and returns each demo user's token. */
export async function loadDemo(store: Store, options: DemoOptions): Promise<DemoTokens> {
  const tokenFile = join(options.dataDir, 'demo-tokens.json');
  const known: DemoTokens = existsSync(tokenFile) ? (JSON.parse(readFileSync(tokenFile, 'utf8')) as DemoTokens) : {};
  const doc = await loadSpec(readFileSync(options.paymentsSpecPath, 'utf8'));
  const resources: AnyResource[] = [
    res('Team', 'payments', { displayName: 'Payments', contact: { email: 'payments@example.com' } }),
    res('Team', 'orders', { displayName: 'Orders', contact: { email: 'orders@example.com' } }),
    res('Team', 'platform', { displayName: 'Platform', contact: { email: 'platform@example.com' } }),
    res('Environment', 'dev', { displayName: 'Development', order: 0, ...(options.gatewayUrls?.dev && { gatewayUrl: options.gatewayUrls.dev }) }),
    res('Environment', 'staging', { displayName: 'Staging', order: 1, ...(options.gatewayUrls?.staging && { gatewayUrl: options.gatewayUrls.staging }) }),
    res('Environment', 'prod', { displayName: 'Production', order: 2, production: true, ...(options.gatewayUrls?.prod && { gatewayUrl: options.gatewayUrls.prod }) }),
    res('User', 'alex', { team: 'payments', role: 'owner', displayName: 'Alex (producer)', email: 'alex@example.com' }),
    res('User', 'bob', { team: 'orders', role: 'member', displayName: 'Bob (consumer)', email: 'bob@example.com' }),
    res('User', 'pooja', { team: 'platform', role: 'platform-admin', displayName: 'Pooja (platform)', email: 'pooja@example.com' }),
    res('GovernanceRuleset', 'default', {
      description: 'Lint errors block staging and prod; warnings are reported everywhere.',
      gates: [
        { environment: 'dev', blockOn: 'never' },
        { environment: 'staging', blockOn: 'error' },
        { environment: 'prod', blockOn: 'error' },
      ],
    }),
    res('Plan', 'free', { displayName: 'Free', rateLimit: { perMinute: 60 }, quota: { perDay: 1000 }, approval: 'auto', environments: ['dev', 'staging'] }),
    res('Plan', 'gold', { displayName: 'Gold', rateLimit: { perMinute: 6000 }, approval: 'manual', environments: [] }),
    ...['dev', 'staging', 'prod'].map((env) =>
      res('Policy', `platform-${env}`, {
        description: `Platform policy for ${env}: every API needs an API key and a subscription, and requests are validated against the API's OpenAPI document.`,
        targetRef: { kind: 'Environment', name: env },
        apiKeyAuth: { header: 'x-api-key' },
        subscription: { required: true },
        requestValidation: { enabled: true },
        // the portal's try-it calls the gateway from the browser
        ...(options.portalOrigin !== undefined && {
          cors: {
            allowOrigins: [options.portalOrigin],
            allowHeaders: ['x-api-key', 'content-type', 'authorization'],
            exposeHeaders: ['x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'retry-after', 'deprecation', 'sunset', 'link'],
          },
        }),
      }),
    ),
    res('Api', 'payments', {
      owner: 'payments',
      title: 'Payments',
      description: 'Take and look up payments and invoices.',
      tags: ['payments', 'billing'],
      visibility: 'internal',
      contact: { name: 'Payments team', email: 'payments@example.com' },
      versions: [{ name: 'v1', revision: doc.version, openapi: doc.document, environments: { dev: { upstream: options.paymentsUpstream, state: 'published' } } }],
    }),
    res('Application', 'bob-app', { owner: 'orders', displayName: "Bob's order service" }),
    res('Subscription', 'bob-app-payments-v1-dev', { application: 'bob-app', api: 'payments', version: 'v1', plan: 'free', environment: 'dev' }),
  ];
  const tokens: DemoTokens = {};
  // tokens from an earlier start that still work are kept (looked up before the transaction: one connection)
  const stillValid = new Set<string>();
  for (const [user, token] of Object.entries(known)) if (user !== 'bobAppKey' && (await store.findToken(hashToken(token)))) stillValid.add(user);
  await store.transaction(async (tx) => {
    const ctx = { tx, principal: SYSTEM, requestId: 'demo' };
    for (const r of resources) {
      if (await tx.get(r.kind, r.metadata.name)) continue;
      await writeResource(ctx, r);
    }
    for (const user of ['alex', 'bob', 'pooja']) {
      const have = known[user];
      if (have !== undefined && stillValid.has(user)) {
        tokens[user] = have;
        continue;
      }
      const token = newToken();
      await tx.putToken(hashToken(token), { user, prefix: token.slice(0, 8), createdAt: new Date().toISOString() });
      await tx.audit({ actor: SYSTEM.name, action: 'token.issue', kind: 'User', name: user, before: null, after: { prefix: token.slice(0, 8) }, requestId: 'demo' });
      tokens[user] = token;
    }
    // bob's app gets one API key so the demo can be called at once; `apigov keys create` makes more
    const haveKey = known.bobAppKey !== undefined && (await tx.get('Credential', 'bob-app-demo-key')) !== null;
    if (haveKey) tokens.bobAppKey = known.bobAppKey;
    else {
      const key = newApiKey();
      // its key was lost with the tokens file: the old credential goes (audited, as every change), a new one comes
      const stale = await tx.get('Credential', 'bob-app-demo-key');
      if (stale) {
        await tx.delete('Credential', 'bob-app-demo-key');
        await tx.audit({ actor: SYSTEM.name, action: 'key.revoke', kind: 'Credential', name: 'bob-app-demo-key', before: auditView(stale.resource), after: null, requestId: 'demo' });
      }
      await writeResource(ctx, apiKeyCredential('bob-app-demo-key', 'bob-app', key), { action: 'key.create' });
      tokens.bobAppKey = key;
    }
  });
  writeFileSync(tokenFile, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  return tokens;
}

// A real OpenID Connect provider for tests: oidc-provider on 127.0.0.1 with the authorization code flow (PKCE), the
// device flow, refresh tokens and RP-initiated logout, and a small sign-in page of our own where a test types a
// user name and ticks "Use my second factor" (acr/amr for step-up). People and their groups are a map tests change.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface Person {
  name?: string;
  email?: string;
  groups: string[];
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** people by user name; change a person's groups and their next sign-in sees it */
  people: Map<string, Person>;
  close(): Promise<void>;
}

export const ACR_PASSWORD = 'urn:apigov:test:pwd';
export const ACR_MFA = 'urn:apigov:test:mfa';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the provider; `redirectBase` is the control plane's URL (its callback and post-logout URIs are registered). */
export async function startIdentityProvider(redirectBase: string | (() => string), options: { clientId?: string; clientSecret?: string } = {}): Promise<TestIdentityProvider> {
  const clientId = options.clientId ?? 'apigov';
  const clientSecret = options.clientSecret ?? 'apigov-test-client-secret-0123456789';
  const people = new Map<string, Person>();
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = () => (typeof redirectBase === 'function' ? redirectBase() : redirectBase);

  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${base()}/v1/auth/oidc/callback`],
        post_logout_redirect_uris: [`${base()}/`],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    async findAccount(_ctx, id) {
      const person = people.get(id);
      if (person === undefined) return undefined;
      return {
        accountId: id,
        async claims() {
          const now = people.get(id) ?? person;
          return { sub: id, preferred_username: id, name: now.name ?? id, email: now.email ?? `${id}@example.test`, groups: [...now.groups] };
        },
      };
    },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
    acrValues: [ACR_PASSWORD, ACR_MFA],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['apigov-test-idp-cookie-key'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          ctx.body = page('Sign out of the test IdP', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
        },
      },
      deviceFlow: {
        enabled: true,
        async userCodeInputSource(ctx: KoaContextWithOIDC, form: string) {
          ctx.body = page('Enter your device code', `${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
        },
        async userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, _client: unknown, _info: unknown, userCode: string) {
          ctx.body = page('Confirm the device', `<p>Code <code>${esc(userCode)}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`);
        },
        async successSource(ctx: KoaContextWithOIDC) {
          ctx.body = page('Device signed in', '<p>You can close this page.</p>');
        },
      },
    },
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // a first-party client: the grant covers what it asks for, no consent screen
    async loadExistingGrant(ctx) {
      const id = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      const grant = id ? await ctx.oidc.provider.Grant.find(id) : new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      if (!grant) return undefined;
      grant.addOIDCScope('openid profile email groups offline_access');
      grant.addOIDCClaims(['preferred_username', 'name', 'email', 'groups']);
      await grant.save();
      return grant;
    },
    ttl: { AccessToken: 600, IdToken: 600, RefreshToken: 86400, DeviceCode: 600, Interaction: 600, Session: 3600, Grant: 86400 },
  };
  const provider = new Provider(issuer, configuration);
  const handler = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, submit: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (!submit) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        page(
          'Sign in to the test IdP',
          `<form method="post" action="/interaction/${esc(uid)}/login"><label>User name <input name="username" autocomplete="username"></label> <label>Password <input name="password" type="password"></label> <label><input type="checkbox" name="mfa" value="yes"> Use my second factor</label> <button type="submit">Sign in</button></form>`,
        ),
      );
      return;
    }
    const form = await formBody(req);
    const username = form.get('username') ?? '';
    if (!people.has(username)) {
      res.statusCode = 401;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page('Unknown user', '<p>No such person at the test IdP.</p>'));
      return;
    }
    const mfa = form.get('mfa') === 'yes';
    await provider.interactionFinished(req, res, { login: { accountId: username, acr: mfa ? ACR_MFA : ACR_PASSWORD, amr: mfa ? ['pwd', 'otp'] : ['pwd'] } }, { mergeWithLastSubmission: false });
  }

  server.on('request', (req, res) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0]!);
    if (m === null) return void handler(req, res);
    interaction(req, res, m[1]!, m[2] !== undefined && req.method === 'POST').catch((e: unknown) => {
      res.statusCode = 400;
      res.end(String((e as Error).message));
    });
  });
  return {
    issuer,
    clientId,
    clientSecret,
    people,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

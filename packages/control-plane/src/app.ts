// Assembles the control plane's HTTP application: parsers, request ids, authentication, routes and problem+json errors.
import { registerPublishRequestRoutes } from './routes/publish-requests.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { assertScope, requiredScope } from './scopes.js';
import { SignInGuard, type SignInLimits } from './sign-in-guard.js';
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { ApigovError } from '@apigov/model';
import type { Store } from '@apigov/store';
import fastifyCookie from '@fastify/cookie';
import { ANONYMOUS, Authenticator, hashToken, requireSignedIn } from './auth.js';
import { IdentityProviders } from './identity/providers.js';
import { assertCsrf, clearSessionCookies, SESSION_COOKIE } from './identity/sessions.js';
import { registerAuthRoutes, whoami, type SsoOptions } from './routes/auth.js';
import { registerScimRoutes } from './routes/scim.js';
import { registerEventRoutes } from './routes/events.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { WebhookWorker, type WebhookWorkerOptions } from './webhooks/worker.js';
import { NatsPublisher } from './events/nats.js';
import { runSubscriptionClock } from './consumption/clock.js';
import { runSunsetClock } from './catalog/sunset-clock.js';
import { runEventClock } from './events/clock-events.js';
import { registerSubscriptionWorkflowRoutes } from './routes/subscription-workflow.js';
import { sendProblem } from './problem.js';
import { controlPlaneOpenApi, withIdentityProviders } from './openapi.js';
import { registerApiRoutes } from './routes/apis.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerSyncRoutes } from './routes/sync.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerConsumptionRoutes } from './routes/consumption.js';
import { registerGatewayRoutes } from './routes/gateway.js';
import { registerUsageRoutes } from './routes/usage.js';
import { SnapshotService } from './snapshot/service.js';
import { portalDir, registerPortal } from './portal.js';
import { registerResourceRoutes } from './routes/resources.js';

export interface ControlPlaneOptions {
  store: Store;
  /** bootstrap platform-admin token (APIGOV_ADMIN_TOKEN) */
  adminToken?: string;
  /** token gateways use to read snapshots and send reports (APIGOV_GATEWAY_TOKEN) */
  gatewayToken?: string;
  /** the portal's build directory (default: @apigov/portal's dist, when built) */
  portalDir?: string;
  /** pino logger options, or false */
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** failed sign-ins allowed per address and per user before a lockout (default 20 a minute, then 5 minutes) */
  signInLimits?: SignInLimits;
  /** single sign-on: the public URL (for redirect URIs) and session lifetimes */
  sso?: SsoOptions;
  /** addresses or CIDRs of proxies whose X-Forwarded-For/-Proto/-Host are believed (client address, https, host) */
  trustedProxies?: string[];
  /** how often the subscription clock runs (approval SLAs, expiry warnings, expiry; default a minute) */
  subscriptionClockMs?: number;
  /** publish every event to NATS JetStream at this URL (subjects apigov.events.<type>) */
  eventsNats?: string;
  /** the webhook worker's settings (retry schedule, interval), or false for none in this process */
  webhooks?: WebhookWorkerOptions | false;
  /** serve HTTPS: PEM certificate chain and private key */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

const attached = new WeakMap<FastifyInstance, { snapshots: SnapshotService; store: Store }>();

/** The snapshot service of an application built by buildControlPlane. */
export function snapshotsOf(app: FastifyInstance): SnapshotService {
  const a = attached.get(app);
  if (!a) throw new Error('not a control plane application');
  return a.snapshots;
}

/** The store as the application uses it: commits through it recompile snapshots. */
export function catalogStoreOf(app: FastifyInstance): Store {
  const a = attached.get(app);
  if (!a) throw new Error('not a control plane application');
  return a.store;
}

/** The same store, but every committed transaction calls `onCommit`. */
function observeCommits(store: Store, onCommit: () => void): Store {
  const transaction: Store['transaction'] = async (fn) => {
    const result = await store.transaction(fn);
    onCommit();
    return result;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'transaction') return transaction;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const servedRoutes = new WeakMap<FastifyInstance, string[]>();

/** Every `METHOD /path` the application serves (path parameters as `{name}`), for holding against its OpenAPI document. */
export function routesOf(app: FastifyInstance): string[] {
  return [...(servedRoutes.get(app) ?? [])];
}

/** Request bodies above this are refused before parsing; specs have their own 20 MB limit inside it. */
export const BODY_LIMIT = 24 * 1024 * 1024;

export async function buildControlPlane(options: ControlPlaneOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    ...(options.trustedProxies !== undefined && options.trustedProxies.length > 0 && { trustProxy: options.trustedProxies }),
    ...(options.tls !== undefined && { https: { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' as const } }),
    bodyLimit: BODY_LIMIT,
    // on close, long-polls are answered first (preClose); whatever connection is still open is then cut, not waited for
    forceCloseConnections: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(h) ? h : randomUUID();
    },
  });
  const served: string[] = [];
  servedRoutes.set(app, served);
  app.addHook('onRoute', (route) => {
    for (const m of [route.method].flat()) if (m !== 'HEAD') served.push(`${m} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  // every committed change recompiles the gateway snapshots
  const snapshots = new SnapshotService(options.store);
  let webhooks: WebhookWorker | undefined;
  let nats: NatsPublisher | undefined;
  const store = observeCommits(options.store, () => {
    snapshots.schedule();
    webhooks?.kick();
    nats?.kick();
  });
  const deps = { store, auth: new Authenticator(store, options.adminToken, options.gatewayToken) };
  const signIns = new SignInGuard(store, options.signInLimits);
  attached.set(app, { snapshots, store });
  const stopClock = snapshots.startClock();
  // the worker writes through the raw store: its own commits do not wake it again
  webhooks = options.webhooks === false ? undefined : new WebhookWorker(options.store, options.webhooks);
  webhooks?.start();
  const clock = setInterval(() => void runSubscriptionClock(store).then(() => runSunsetClock(store)).then(() => runEventClock(store)).catch(() => undefined), options.subscriptionClockMs ?? 60_000);
  clock.unref();
  if (options.eventsNats !== undefined) {
    nats = new NatsPublisher(options.store, options.eventsNats);
    try {
      await nats.start();
    } catch (e) {
      throw new ApigovError('APIGOV_ERR_UNAVAILABLE', `--events-nats ${options.eventsNats}: ${(e as Error).message}`);
    }
  }
  // long-polling gateways are answered at once when the control plane stops, not after their wait runs out
  app.addHook('preClose', async () => {
    stopClock();
    clearInterval(clock);
    await webhooks?.stop();
    await nats?.stop();
    await signIns.close();
    await snapshots.close();
  });

  // an empty JSON body (DELETE or POST without one, as many clients send) is no body, not an error
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    return json(request, String(body), done);
  });
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await app.register(fastifyCookie);
  const providers = new IdentityProviders(store);
  app.decorateRequest('principal', undefined as never);
  app.decorateRequest('warnings', undefined as never);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const authorization = request.headers.authorization;
    if (authorization === undefined || authorization === '') {
      request.principal = ANONYMOUS;
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie !== undefined && cookie !== '') {
        // a portal session: a state-changing request must carry the CSRF token too
        try {
          const p = await deps.auth.tokenPrincipal(hashToken(cookie));
          if (p.session?.client !== 'portal') throw new ApigovError('APIGOV_ERR_AUTH_INVALID_TOKEN', 'not a session');
          request.principal = p;
        } catch {
          // an ended or expired session: the caller is anonymous, and the browser forgets the cookie
          clearSessionCookies(request, reply);
          return;
        }
        assertCsrf(request);
      }
      return;
    }
    const requestId = String(request.id);
    signIns.assertAllowed(request.ip, requestId);
    try {
      request.principal = await deps.auth.principal(authorization);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'APIGOV_ERR_AUTH_INVALID_TOKEN' || code === 'APIGOV_ERR_AUTH_EXPIRED_TOKEN') {
        const user = (e as { tokenUser?: string }).tokenUser;
        const result = code === 'APIGOV_ERR_AUTH_EXPIRED_TOKEN' ? 'expired' : /^Bearer\s+\S+\s*$/i.test(authorization) ? 'invalid' : 'malformed';
        signIns.failed({ address: request.ip, ...(user !== undefined && { user }), result, requestId });
      }
      throw e;
    }
    if (!request.principal.anonymous && request.principal.role !== 'gateway' && request.principal.name !== 'admin') signIns.assertUserAllowed(request.principal.name, request.ip, requestId);
  });
  // what a write must also tell its caller (a Git-managed resource changed outside Git): RFC 7234-style Warning
  app.addHook('onSend', async (request, reply, payload) => {
    const warnings = request.warnings;
    if (warnings !== undefined && warnings.length > 0) reply.header('warning', warnings.map((w) => `299 apigov ${JSON.stringify(w.replace(/[\r\n]/g, ' '))}`).join(', '));
    return payload;
  });
  // a scoped token may call an operation only with its scope (lifecycle actions check theirs per environment)
  app.addHook('preHandler', async (request) => {
    if (request.principal?.scopes === undefined) return;
    const pattern = request.routeOptions.url;
    if (pattern === undefined) return;
    const required = requiredScope(`${request.method} ${pattern.replace(/:(\w+)/g, '{$1}')}`);
    if (required !== undefined && required !== 'apis:publish') assertScope(request.principal, required);
  });
  app.setErrorHandler((err, request, reply) => sendProblem(reply, request, err));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new ApigovError('APIGOV_ERR_RESOURCE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.get('/healthz', async () => ({ status: 'ok' }));
  // the identity providers are advertised as openIdConnect schemes: the portal shows a sign-in button for each
  app.get('/v1/openapi.json', async () => withIdentityProviders(controlPlaneOpenApi(), await providers.list()));
  app.get('/v1/whoami', async (request) => {
    requireSignedIn(request.principal);
    return whoami(request.principal);
  });
  registerApiRoutes(app, deps);
  registerResourceRoutes(app, deps);
  registerCatalogRoutes(app, deps);
  registerConsumptionRoutes(app, deps);
  registerGatewayRoutes(app, deps, snapshots);
  registerUsageRoutes(app, deps);
  registerPortal(app, portalDir(options.portalDir));
  registerAuditRoutes(app, deps);
  registerSyncRoutes(app, deps);
  registerTokenRoutes(app, deps);
  registerPublishRequestRoutes(app, deps);
  registerAuthRoutes(app, deps, providers, signIns, options.sso);
  registerScimRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerSubscriptionWorkflowRoutes(app, deps);
  return app;
}

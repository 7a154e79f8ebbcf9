// The webhook worker every control plane runs: fans new events out into one delivery per matching webhook (under
// a row lock on the cursor, so replicas never fan out twice), then claims due deliveries with a lease (FOR UPDATE
// SKIP LOCKED) and sends them signed, retrying on the Standard Webhooks schedule with jitter and Retry-After; 410
// turns the webhook off; after the last attempt the delivery is a dead letter until replayed.
import { randomUUID } from 'node:crypto';
import { API_VERSION, parseResource, type WebhookSpec } from '@apigov/model';
import type { DeliveryRecord, EventRecord, Store } from '@apigov/store';
import { eventEnvelope } from '../routes/events.js';
import { writeResource } from '../catalog/writes.js';
import { readFileSync } from 'node:fs';
import { accepted, send, type SendResult } from './send.js';
import { webhookAllowCidrs } from './destination.js';
import { sendEmail } from './email.js';
import { renderHttp, type Envelope } from './formats.js';
import { sign } from './signature.js';
import { systemPrincipal } from '../auth.js';
import { Rounds } from '../events/rounds.js';

/** Standard Webhooks' schedule: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h. */
export const RETRY_DELAYS_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export interface WebhookWorkerOptions {
  /** delay before each attempt; its length is the number of attempts */
  retryDelaysMs?: readonly number[];
  /** how often the worker looks for work (default 200 ms) */
  intervalMs?: number;
  /** time limit of one request (default 10 s) */
  timeoutMs?: number;
  /** how long a claimed delivery is this worker's before another may take it (default 60 s; a crashed worker's come back after it) */
  leaseSeconds?: number;
  /** an endpoint failing this long without a success is turned off, with webhook.disabled to its team (default 5 days) */
  disableAfterFailingMs?: number;
}

/** The worker's settings from the environment (operators and tests): APIGOV_WEBHOOK_RETRY_DELAYS_MS (comma-separated), _LEASE_SECONDS, _INTERVAL_MS. */
export function webhookOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookWorkerOptions {
  const delays = env.APIGOV_WEBHOOK_RETRY_DELAYS_MS?.split(',').map((s) => Number(s.trim()));
  const lease = Number(env.APIGOV_WEBHOOK_LEASE_SECONDS);
  const interval = Number(env.APIGOV_WEBHOOK_INTERVAL_MS);
  return {
    ...(delays !== undefined && delays.length > 0 && delays.every((d) => Number.isInteger(d) && d >= 0) && { retryDelaysMs: delays }),
    ...(Number.isInteger(lease) && lease > 0 && { leaseSeconds: lease }),
    ...(Number.isInteger(interval) && interval > 0 && { intervalMs: interval }),
  };
}

const CURSOR = 'webhooks';
const SYSTEM = systemPrincipal('system:webhooks');

function wants(spec: WebhookSpec, e: EventRecord): boolean {
  if (!spec.enabled) return false;
  if (!spec.events.includes('*') && !spec.events.includes(e.type)) return false;
  return spec.team === undefined || e.teams.includes(spec.team);
}

function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

/** The Authorization header a webhook sends, read from where its secret reference points (never stored). */
function authorizationOf(spec: WebhookSpec): string | undefined {
  const ref = spec.authorization;
  if (ref === undefined) return undefined;
  if ('fromEnv' in ref) return process.env[ref.fromEnv] || undefined;
  try {
    return readFileSync(ref.fromFile, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** One attempt in the webhook's format: an e-mail over SMTP, or a signed HTTP POST of the rendered body. */
export async function deliver(spec: WebhookSpec, e: Envelope, messageId: string, secrets: readonly string[], timeoutMs?: number, allow: readonly string[] = []): Promise<SendResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  if (spec.format === 'email') return sendEmail(spec.url, e, { 'X-Apigov-Event': e.type, 'X-Apigov-Message-Id': messageId });
  const { body, contentType } = renderHttp(spec, e);
  const authorization = authorizationOf(spec);
  const headers = {
    'content-type': contentType,
    'user-agent': 'apigov-webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secrets, messageId, timestamp, body),
    ...(authorization !== undefined && { authorization }),
  };
  return send(spec.url, body, headers, timeoutMs, allow);
}

export class WebhookWorker {
  private readonly rounds: Rounds;
  private readonly delays: readonly number[];

  constructor(
    private readonly store: Store,
    private readonly options: WebhookWorkerOptions = {},
  ) {
    this.delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
    this.rounds = new Rounds(() => this.tick(), options.intervalMs ?? 200);
  }

  start(): void {
    this.rounds.start();
  }

  /** A commit in this process may have written events: look now rather than at the next interval. */
  kick(): void {
    this.rounds.kick();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** One round: fan out what is new, then send what is due (a batch reads in one transaction and records in one). */
  async tick(): Promise<void> {
    await this.fanOut();
    for (let rounds = 0; rounds < 10; rounds++) {
      const claimed = await this.store.transaction((tx) => tx.claimDeliveries(50, this.options.leaseSeconds ?? 60));
      if (claimed.length === 0) return;
      await this.sendBatch(claimed);
    }
  }

  private async fanOut(): Promise<void> {
    await this.store.transaction(async (tx) => {
      const cursor = await tx.lockCursor(CURSOR);
      const hooks = (await tx.list('Webhook', { limit: 10_000 })).flatMap((s) => (s.resource.kind === 'Webhook' ? [{ name: s.resource.metadata.name, spec: s.resource.spec, since: s.createdAt }] : []));
      if (hooks.length === 0) {
        // nothing to fan out to: the cursor moves on, so a webhook made later starts from its own creation
        await tx.setCursor(CURSOR, await tx.maxEventSeq());
        return;
      }
      const events = await tx.listEvents({ afterSeq: cursor ?? 0, limit: 1000 });
      // a webhook gets the events from its creation on, never the history before it
      for (const e of events) for (const h of hooks) if (e.at >= h.since && wants(h.spec, e)) await tx.addDelivery({ id: `msg_${randomUUID()}`, webhook: h.name, eventSeq: e.seq, eventType: e.type });
      if (events.length > 0) await tx.setCursor(CURSOR, events[events.length - 1]!.seq);
    });
  }

  private async sendBatch(claimed: readonly DeliveryRecord[]): Promise<void> {
    // what the batch needs, read once: the webhooks, their secrets, the events, the allow-list
    const ctx = await this.store.transaction(async (tx) => {
      const hooks = new Map<string, { spec?: WebhookSpec; secrets: string[] }>();
      for (const name of new Set(claimed.map((d) => d.webhook))) {
        const h = await tx.get('Webhook', name);
        hooks.set(name, { ...(h?.resource.kind === 'Webhook' && { spec: h.resource.spec }), secrets: await tx.webhookSecrets(name) });
      }
      const seqs = claimed.map((d) => d.eventSeq);
      const lo = Math.min(...seqs);
      const events = new Map<number, EventRecord>();
      const span = Math.max(...seqs) - lo + 1;
      if (span <= 1000) for (const e of await tx.listEvents({ afterSeq: lo - 1, limit: span })) events.set(e.seq, e);
      else for (const seq of new Set(seqs)) for (const e of await tx.listEvents({ afterSeq: seq - 1, limit: 1 })) if (e.seq === seq) events.set(seq, e);
      return { hooks, events, allow: await webhookAllowCidrs(tx) };
    });
    const outcomes = await Promise.all(
      claimed.map(async (d) => {
        const hook = ctx.hooks.get(d.webhook);
        const event = ctx.events.get(d.eventSeq);
        if (hook?.spec === undefined || event === undefined || !hook.spec.enabled) {
          return { d, attempts: d.attempts, result: { error: hook?.spec === undefined ? 'the webhook is gone' : event === undefined ? 'the event is gone' : 'the webhook is disabled' } as SendResult, final: true };
        }
        const result = await deliver(hook.spec, eventEnvelope(event) as unknown as Envelope, d.id, hook.secrets, this.options.timeoutMs, ctx.allow);
        return { d, attempts: d.attempts + 1, result, final: false };
      }),
    );
    const failing = new Map<string, string>();
    await this.store.transaction(async (tx) => {
      for (const { d, attempts, result, final } of outcomes) {
        if (final) {
          await tx.finishAttempt(d.id, { state: 'failed', attempts, error: result.error! });
          continue;
        }
        if (accepted(result)) {
          await tx.finishAttempt(d.id, { state: 'delivered', attempts, ...(result.status !== undefined && { status: result.status }) });
          continue;
        }
        const error = result.error ?? `HTTP ${result.status}`;
        if (result.status === 410) {
          // the receiver says it is gone for good: the webhook is turned off, with the reason
          await tx.finishAttempt(d.id, { state: 'failed', attempts, status: 410, error: '410 Gone: the webhook was disabled' });
          const current = await tx.get('Webhook', d.webhook);
          if (current?.resource.kind === 'Webhook' && current.resource.spec.enabled) {
            const spec = { ...current.resource.spec, enabled: false, disabledReason: `the receiver answered 410 Gone at ${new Date().toISOString()}` };
            await writeResource({ tx, principal: SYSTEM, requestId: `webhook-${d.id}` }, parseResource({ apiVersion: API_VERSION, kind: 'Webhook', metadata: current.resource.metadata, spec }), { action: 'webhook.disable' });
          }
          continue;
        }
        if (attempts >= this.delays.length || result.refused === true) await tx.finishAttempt(d.id, { state: 'failed', attempts, ...(result.status !== undefined && { status: result.status }), error });
        else {
          const wait = Math.max(jitter(this.delays[attempts]!), Math.min((result.retryAfterSeconds ?? 0) * 1000, 86_400_000));
          await tx.finishAttempt(d.id, { state: 'retrying', attempts, nextAt: new Date(Date.now() + wait).toISOString(), ...(result.status !== undefined && { status: result.status }), error });
        }
        failing.set(d.webhook, error);
      }
    });
    for (const [webhook, error] of failing) await this.disableIfFailingTooLong(webhook, error);
  }

  /** An endpoint that has failed since longer than the limit, without one success, is turned off and its team told. */
  private async disableIfFailingTooLong(webhook: string, error: string): Promise<void> {
    const limit = this.options.disableAfterFailingMs ?? 5 * 86_400_000;
    await this.store.transaction(async (tx) => {
      const recent = await tx.listDeliveries({ webhook, limit: 1000 });
      const lastSuccess = recent.find((x) => x.state === 'delivered');
      const failing = recent.filter((x) => x.state !== 'delivered' && x.state !== 'pending' && (lastSuccess === undefined || x.eventSeq > lastSuccess.eventSeq));
      const since = failing.length === 0 ? undefined : failing[failing.length - 1]!.createdAt;
      if (since === undefined || Date.now() - Date.parse(since) < limit) return;
      const current = await tx.get('Webhook', webhook);
      if (current?.resource.kind !== 'Webhook' || !current.resource.spec.enabled) return;
      const spec = { ...current.resource.spec, enabled: false, disabledReason: `failing since ${since} without a success (last: ${error})` };
      await writeResource({ tx, principal: SYSTEM, requestId: `webhook-${webhook}` }, parseResource({ apiVersion: API_VERSION, kind: 'Webhook', metadata: current.resource.metadata, spec }), { action: 'webhook.disable' });
      await tx.emit({ type: 'webhook.disabled', actor: SYSTEM.name, subject: { kind: 'Webhook', name: webhook }, teams: spec.team === undefined ? [] : [spec.team], data: { webhook, url: spec.url, failingSince: since, lastError: error } });
    });
  }
}

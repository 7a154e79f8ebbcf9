// `apigov webhooks create|list|delete|test|deliveries|replay|rotate-secret`: where a team's events go (signed
// Standard Webhooks requests), what happened to each delivery, and sending the dead letters again.
import type { Command } from 'commander';
import { CliError, EXIT_USAGE, usageError } from '../errors.js';
import { nameOption, outputOption, sinceOption, type OutputOptions } from '../options.js';
import { emit, renderData, renderTable, writeOut } from '../output.js';
import type { Session } from '../session.js';

interface Delivery {
  id: string;
  eventType: string;
  state: string;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
}

interface WebhookDoc {
  metadata: { name: string };
  spec: { url: string; events: string[]; team?: string; format: string; enabled: boolean; disabledReason?: string };
}

const seg = encodeURIComponent;

export function registerWebhookCommands(program: Command, session: Session): void {
  const webhooks = program.command('webhooks').description("send your team's events to a URL: create (prints the signing secret once), list, delete, test, deliveries, replay");

  webhooks
    .command('create')
    .description('create a webhook and print its whsec_ signing secret (shown once; -o json gives it as secret)')
    .argument('<name>', 'the webhook\'s name', nameOption)
    .requiredOption('--url <url>', 'where to POST the events')
    .requiredOption('--events <types>', 'comma-separated event types (GET /v1/events/types lists them), or *')
    .option('--format <format>', 'the body: standard (the event as JSON)', 'standard')
    .option('--team <team>', 'whose events: a team of yours (default: your team); platform admins may give --all instead', nameOption)
    .option('--all', 'platform admins: every event, whoever it concerns')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { url: string; events: string; format: string; team?: string; all?: boolean }) => {
        const events = opts.events.split(',').map((s) => s.trim()).filter(Boolean);
        if (events.length === 0) throw usageError('--events: give at least one event type');
        if (opts.all && opts.team !== undefined) throw usageError('give --team or --all, not both');
        const cp = await session.client();
        const team = opts.all ? undefined : (opts.team ?? ((await cp.request('GET', '/v1/whoami')).body as { team?: string }).team);
        if (!opts.all && team === undefined) throw usageError('you have no team: give --team TEAM (or --all as a platform admin)');
        const doc = { apiVersion: 'apigov.dev/v1', kind: 'Webhook', metadata: { name }, spec: { url: opts.url, events, format: opts.format, ...(team !== undefined && { team }) } };
        let created: WebhookDoc & { secret: string };
        try {
          created = (await cp.request('POST', '/v1/webhooks', { body: doc })).body as WebhookDoc & { secret: string };
        } catch (e) {
          // a refused --url or --events is a mistake in the command line: exit 2
          if (e instanceof CliError && e.status === 422) throw new CliError(e.code, e.message, { exitCode: EXIT_USAGE, errors: e.errors });
          throw e;
        }
        if (opts.output !== 'table') {
          writeOut(renderData(opts.output, created));
          return;
        }
        writeOut(`${created.secret}\n`);
        process.stderr.write(`webhook ${name} sends ${events.join(', ')}${team ? ` of team ${team}` : ''} to ${opts.url}; its signing secret is shown once: keep it with the receiver\n`);
      }),
    );

  webhooks
    .command('list')
    .description('the webhooks you may see: URL, events, team, whether enabled')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const items = ((await (await session.client()).request('GET', '/v1/webhooks', { query: { limit: 500 } })).body as { items: WebhookDoc[] }).items;
        emit(opts.output, { items }, () =>
          items.length === 0
            ? 'No webhooks.\n'
            : renderTable(['name', 'url', 'events', 'team', 'enabled'], items.map((w) => [w.metadata.name, w.spec.url, w.spec.events.join(','), w.spec.team ?? '(all)', w.spec.enabled ? 'yes' : `no: ${w.spec.disabledReason ?? 'disabled'}`])),
        );
      }),
    );

  webhooks
    .command('delete')
    .description('delete a webhook (its secret and deliveries go with it)')
    .argument('<name>', 'the webhook', nameOption)
    .action(
      session.action(async (name: string) => {
        await (await session.client()).request('DELETE', `/v1/webhooks/${seg(name)}`);
        writeOut(`deleted webhook ${name}\n`);
      }),
    );

  webhooks
    .command('test')
    .description('send a signed webhook.test message now; exit 1 unless the receiver answers 2xx')
    .argument('<name>', 'the webhook', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions) => {
        const r = (await (await session.client()).request('POST', `/v1/webhooks/${seg(name)}/test`)).body as { delivered: boolean; status?: number; error?: string };
        emit(opts.output, r, () => (r.delivered ? `delivered: the receiver answered ${r.status}\n` : `not delivered: ${r.error ?? `the receiver answered ${r.status}`}\n`));
        return r.delivered ? 0 : 1;
      }),
    );

  webhooks
    .command('deliveries')
    .description("a webhook's deliveries, newest first: id, event type, attempts, last status, state")
    .argument('<name>', 'the webhook', nameOption)
    .option('--failed', 'only the dead letters (failed after every attempt)')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { failed?: boolean }) => {
        const items = ((await (await session.client()).request('GET', `/v1/webhooks/${seg(name)}/deliveries`, { query: { state: opts.failed ? 'failed' : undefined } })).body as { items: Delivery[] }).items;
        emit(opts.output, items, () =>
          items.length === 0 ? 'No deliveries.\n' : renderTable(['id', 'event', 'attempts', 'last status', 'state'], items.map((d) => [d.id, d.eventType, d.attempts, d.lastStatus ?? d.lastError ?? '-', d.state])),
        );
      }),
    );

  webhooks
    .command('replay')
    .description('send a delivery again (its id), or every dead letter of a webhook since a time')
    .argument('[delivery]', 'a delivery id (msg_…) from apigov webhooks deliveries')
    .option('--webhook <name>', 'with --since: only this webhook (default: every webhook you manage)', nameOption)
    .option('--since <time>', 'every failed delivery since this time or this long ago (30m, 2h, 7d)', sinceOption)
    .action(
      session.action(async (delivery: string | undefined, opts: { webhook?: string; since?: string }) => {
        const cp = await session.client();
        if (delivery !== undefined) {
          if (opts.since !== undefined) throw usageError('give a delivery id or --webhook NAME --since TIME, not both');
          await cp.request('POST', `/v1/deliveries/${seg(delivery)}/replay`);
          writeOut(`replaying ${delivery}\n`);
          return;
        }
        if (opts.since === undefined) throw usageError('give a delivery id, or --since TIME [--webhook NAME]');
        // without --webhook: every webhook you manage
        const names = opts.webhook !== undefined ? [opts.webhook] : ((await cp.request('GET', '/v1/webhooks', { query: { limit: 500 } })).body as { items: WebhookDoc[] }).items.map((w) => w.metadata.name);
        for (const name of names) {
          const r = (await cp.request('POST', `/v1/webhooks/${seg(name)}/replay`, { body: { since: opts.since } })).body as { replayed: number };
          writeOut(`replaying ${r.replayed} failed deliveries of ${name}\n`);
        }
      }),
    );

  webhooks
    .command('rotate-secret')
    .description('print a new signing secret; the old one stays valid for --overlap (default 1d) so receivers can switch')
    .argument('<name>', 'the webhook', nameOption)
    .option('--overlap <duration>', 'how long the old secret still signs: 0, 30m, 12h, 1d…', '1d')
    .action(
      session.action(async (name: string, opts: { overlap: string }) => {
        const m = /^(\d+)(s|m|h|d)?$/.exec(opts.overlap);
        if (m === null) throw usageError(`--overlap ${opts.overlap}: give a duration such as 0, 30m, 12h or 1d`);
        const overlapSeconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
        const r = (await (await session.client()).request('POST', `/v1/webhooks/${seg(name)}/rotate-secret`, { body: { overlapSeconds } })).body as { secret: string; previousValidUntil: string | null };
        writeOut(`${r.secret}\n`);
        process.stderr.write(r.previousValidUntil ? `the previous secret still signs until ${r.previousValidUntil}\n` : 'the previous secret no longer signs\n');
      }),
    );
}

// Subscriptions: `apigov subscribe` (an application to an API version in an environment on a plan),
// `list-subscriptions`, the decisions of the API's owners and platform admins (`approve`, `reject`,
// `suspend`, `resume`), and `consumers` (who subscribes to an API).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SUBSCRIPTION_STATES } from '@apigov/model';
import { apiConsumers, decideSubscription, getResource, listResources, subscribe, type ResourceDocument, type SubscriptionAction } from '../api.js';
import { dateOption, nameOption, outputOption, versionOption, type OutputOptions } from '../options.js';
import { emit, renderTable, writeOut } from '../output.js';
import { usageError } from '../errors.js';
import { specField } from '../resources.js';
import type { ControlPlaneClient } from '../http.js';
import type { Session } from '../session.js';

interface SubscribeOptions extends OutputOptions {
  app: string;
  plan: string;
  env: string;
  version?: string;
  expires?: string;
}

interface ListOptions extends OutputOptions {
  app?: string;
  api?: string;
  state?: string;
  env?: string;
}

const PAST: Record<SubscriptionAction, string> = { approve: 'approved', reject: 'rejected', suspend: 'suspended', resume: 'resumed' };

function summary(sub: ResourceDocument): string {
  const s = (f: string) => specField(sub, f) ?? '?';
  const expires = specField(sub, 'expiresAt');
  return `${s('api')} ${s('version')} in ${s('environment')}, plan ${s('plan')}${expires === undefined ? '' : `, expires ${expires}`}`;
}

/** The API's owner team, for saying who approves (best effort: the subscription exists either way). */
async function ownerOf(cp: ControlPlaneClient, api: string): Promise<string | undefined> {
  try {
    return specField(await getResource(cp, 'apis', api), 'owner');
  } catch {
    return undefined;
  }
}

function reasonOption(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty.');
  return value;
}

export function registerSubscriptionCommands(program: Command, session: Session): void {
  program
    .command('subscribe')
    .description("subscribe an application to an API version in an environment on a plan (auto-approved plans are active at once; others wait for the API's owners)")
    .argument('<api>', 'API name')
    .requiredOption('--app <application>', 'the subscribing application', nameOption)
    .requiredOption('--plan <plan>', 'plan (rate limits, quota, approval)', nameOption)
    .requiredOption('--env <environment>', 'environment', nameOption)
    .option('--version <version>', 'API version (default: the newest served in that environment)', versionOption)
    .option('--expires <date>', 'end the subscription then (YYYY-MM-DD or RFC 3339)', dateOption)
    .addOption(outputOption())
    .action(
      session.action(async (api: string, opts: SubscribeOptions) => {
        const cp = await session.client();
        const sub = await subscribe(cp, opts.app, { api, plan: opts.plan, environment: opts.env, version: opts.version, expiresAt: opts.expires });
        const name = sub.metadata.name;
        const state = specField(sub, 'state') ?? 'unknown';
        let table = `Subscription ${name}: ${state} (${summary(sub)}).\n`;
        if (state === 'pending' && opts.output === 'table') {
          const owner = await ownerOf(cp, api);
          table += `  waiting for approval by the owners of ${api}${owner === undefined ? '' : ` (team ${owner})`} or a platform admin: apigov approve ${name}\n`;
        }
        emit(opts.output, sub, () => table);
      }),
    );

  program
    .command('list-subscriptions')
    .description('list the subscriptions you can see (your team\'s, and those to APIs your team owns)')
    .option('--app <application>', 'only this application', nameOption)
    .option('--api <api>', 'only subscriptions to this API', nameOption)
    .addOption(new Option('--state <state>', 'only subscriptions in this state').choices(SUBSCRIPTION_STATES))
    .option('--env <environment>', 'only this environment', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (opts: ListOptions) => {
        const items = await listResources(await session.client(), 'subscriptions', {
          application: opts.app,
          api: opts.api,
          state: opts.state,
          environment: opts.env,
        });
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No subscriptions found.\n'
            : renderTable(
                ['name', 'app', 'api', 'version', 'env', 'plan', 'state'],
                items.map((s) => [s.metadata.name, specField(s, 'application'), specField(s, 'api'), specField(s, 'version'), specField(s, 'environment'), specField(s, 'plan'), specField(s, 'state')]),
              ),
        );
      }),
    );

  const decisions: Array<{ action: SubscriptionAction; description: string; reason: 'required' | 'optional' | 'none' }> = [
    { action: 'approve', description: 'approve a pending (or rejected) subscription', reason: 'optional' },
    { action: 'reject', description: 'reject a pending subscription', reason: 'required' },
    { action: 'suspend', description: 'suspend an approved subscription (its traffic is refused until resumed)', reason: 'required' },
    { action: 'resume', description: 'resume a suspended subscription', reason: 'none' },
  ];
  for (const { action, description, reason } of decisions) {
    if (action === 'approve') continue;
    const cmd = program
      .command(action)
      .description(`${description} (by the API's owner team or a platform admin)`)
      .argument('<subscription>', 'subscription name (see `apigov list-subscriptions`)');
    if (reason === 'required') cmd.requiredOption('--reason <text>', 'why (shown to the subscriber and audited)', reasonOption);
    if (reason === 'optional') cmd.option('--reason <text>', 'why (audited)', reasonOption);
    cmd.addOption(outputOption()).action(
      session.action(async (name: string, opts: OutputOptions & { reason?: string }) => {
        const sub = await decideSubscription(await session.client(), name, action, opts.reason);
        const state = specField(sub, 'state') ?? 'unknown';
        emit(opts.output, sub, () => `Subscription ${sub.metadata.name} ${PAST[action] === state ? state : `${PAST[action]}: now ${state}`} (${summary(sub)}).\n`);
      }),
    );
  }

  program
    .command('approve')
    .description("approve a pending (or rejected) subscription, or with --all-pending --api API every pending one of that API (by the API's owner team or a platform admin; a plan with several approvers takes each one's approval)")
    .argument('[subscription]', 'subscription name (see `apigov list-subscriptions`)')
    .option('--reason <text>', 'why (audited)', reasonOption)
    .option('--all-pending', 'every pending subscription of --api')
    .option('--api <api>', 'with --all-pending: the API')
    .addOption(outputOption())
    .action(
      session.action(async (name: string | undefined, opts: OutputOptions & { reason?: string; allPending?: boolean; api?: string }) => {
        const cp = await session.client();
        if (opts.allPending) {
          if (name !== undefined || opts.api === undefined) throw usageError('give either a subscription, or --all-pending --api API');
          const r = (await cp.request('POST', '/v1/subscriptions/approve-all', { body: { api: opts.api } })).body as { approved: string[]; waiting: Array<{ subscription: string; reason: string }> };
          emit(opts.output, r, () => [`approved ${r.approved.length} subscription${r.approved.length === 1 ? '' : 's'} of ${opts.api}${r.approved.length ? `: ${r.approved.join(', ')}` : ''}`, ...r.waiting.map((w) => `still pending: ${w.subscription} (${w.reason})`)].join('\n') + '\n');
          return;
        }
        if (name === undefined) throw usageError('give a subscription, or --all-pending --api API');
        if (opts.api !== undefined) throw usageError('--api goes with --all-pending');
        const sub = await decideSubscription(cp, name, 'approve', opts.reason);
        const state = specField(sub, 'state') ?? 'unknown';
        emit(opts.output, sub, () => `Subscription ${sub.metadata.name} ${state === 'approved' ? 'approved' : `approved by you: now ${state}, waiting for the other approval`} (${summary(sub)}).\n`);
      }),
    );

  program
    .command('renew')
    .description("give an approved (or expired) subscription more time: --until DATE, or 90 days on (the API owners' decision on a manual plan)")
    .argument('<subscription>', 'subscription name')
    .option('--until <date>', 'the new expiry (YYYY-MM-DD or RFC 3339)')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { until?: string }) => {
        const sub = (await (await session.client()).request('POST', `/v1/subscriptions/${encodeURIComponent(name)}/renew`, { body: { ...(opts.until !== undefined && { until: opts.until }) } })).body as ResourceDocument;
        emit(opts.output, sub, () => `Subscription ${name} renewed until ${String(specField(sub, 'expiresAt'))}.\n`);
      }),
    );

  program
    .command('revoke')
    .description('end a subscription (its consumer team or the API owners); its traffic stops')
    .argument('<subscription>', 'subscription name')
    .action(
      session.action(async (name: string) => {
        await (await session.client()).request('POST', `/v1/subscriptions/${encodeURIComponent(name)}/revoke`);
        writeOut(`Subscription ${name} revoked.\n`);
      }),
    );

  program
    .command('consumers')
    .description("list an API's subscriptions: which application of which team, version, environment, plan and state (owners see all, others their team's); with --version, who still calls it: calls in the last 7 days and the last call")
    .argument('<api>', 'API name')
    .option('--version <version>', 'one version (v1, 1 or 1.2.0): adds each consumer\'s calls in the last 7 days and last call', versionOption)
    .addOption(outputOption())
    .action(
      session.action(async (api: string, opts: OutputOptions & { version?: string }) => {
        const items = await apiConsumers(await session.client(), api, opts.version);
        emit(opts.output, items, () =>
          items.length === 0
            ? `${api} has no consumers you can see${opts.version ? ` on ${opts.version}` : ''}.\n`
            : opts.version !== undefined
              ? renderTable(
                  ['subscription', 'app', 'team', 'env', 'plan', 'state', 'calls (7 d)', 'last call'],
                  items.map((c) => [c.subscription, c.application, c.team, c.environment, c.plan, c.state, c.callsLast7Days ?? 0, c.lastCallAt ?? '-']),
                )
              : renderTable(
                  ['subscription', 'app', 'team', 'version', 'env', 'plan', 'state'],
                  items.map((c) => [c.subscription, c.application, c.team, c.version, c.environment, c.plan, c.state]),
                ),
        );
      }),
    );
}

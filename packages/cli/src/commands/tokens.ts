// `apigov tokens create|list|revoke`: named, scoped tokens for automation (service accounts). A token is shown
// once at creation; it does only what both its scopes and its creator's rights allow (POST/GET/DELETE /v1/tokens).
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { nameOption, outputOption, type OutputOptions } from '../options.js';
import { emit, renderTable, writeOut, renderData } from '../output.js';
import type { Session } from '../session.js';

interface TokenInfo {
  name?: string;
  prefix: string;
  scopes?: string[];
  team?: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** `90d`, `12h`, `30m` → days */
function expiresOption(value: string): number {
  const m = /^(\d+)(d|h|m)$/.exec(value.trim());
  if (m === null) throw usageError(`--expires ${value}: give a duration such as 90d, 12h or 30m`);
  return Number(m[1]) / { d: 1, h: 24, m: 1440 }[m[2] as 'd' | 'h' | 'm'];
}

export function registerTokenCommands(program: Command, session: Session): void {
  const tokens = program.command('tokens').description('named, scoped tokens for automation: create (shown once), list, revoke');

  tokens
    .command('create')
    .description('create a token that can do only what its scopes and your own rights allow, and print it (shown once)')
    .requiredOption('--name <name>', 'the token\'s name, e.g. ci', nameOption)
    .requiredOption('--scopes <scopes>', 'comma-separated: AREA:read, AREA:write, AREA:*, apis:publish[:ENVIRONMENT] or *')
    .option('--team <team>', 'the team the token acts for (default: yours)', nameOption)
    .option('--expires <duration>', 'lifetime: 90d (default), 12h, 30m…', '90d')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { name: string; scopes: string; team?: string; expires: string }) => {
        const scopes = opts.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (scopes.length === 0) throw usageError('--scopes: give at least one scope');
        const expiresInDays = expiresOption(opts.expires);
        const cp = await session.client();
        const created = (await cp.request('POST', '/v1/tokens', { body: { name: opts.name, scopes, expiresInDays, ...(opts.team !== undefined && { team: opts.team }) } })).body as TokenInfo & { token: string };
        if (opts.output !== 'table') {
          writeOut(renderData(opts.output, created));
          return;
        }
        writeOut(`${created.token}\n`);
        process.stderr.write(`token ${created.name} (${created.scopes!.join(', ')}${created.team ? `, team ${created.team}` : ''}) expires ${created.expiresAt}; it is shown once: keep it in your CI's secrets\n`);
      }),
    );

  tokens
    .command('list')
    .description('your tokens: name, prefix, scopes, team, expiry and last use (never the tokens)')
    .option('--user <user>', "platform admins: another user's tokens", nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { user?: string }) => {
        const cp = await session.client();
        const items = ((await cp.request('GET', '/v1/tokens', { query: { user: opts.user } })).body as { items: TokenInfo[] }).items;
        emit(opts.output, { items }, () => renderTable(['name', 'prefix', 'scopes', 'team', 'expires', 'last used'], items.map((t) => [t.name ?? '(personal)', t.prefix, (t.scopes ?? ['(all yours)']).join(','), t.team, t.expiresAt ?? 'never', t.lastUsedAt ?? 'never'])));
      }),
    );

  tokens
    .command('revoke')
    .description('revoke one of your named tokens: it stops working at once')
    .argument('<name>', 'the token\'s name', nameOption)
    .option('--user <user>', "platform admins: another user's token", nameOption)
    .action(
      session.action(async (name: string, opts: { user?: string }) => {
        const cp = await session.client();
        await cp.request('DELETE', `/v1/tokens/${encodeURIComponent(name)}`, { query: { user: opts.user } });
        writeOut(`revoked token ${name}\n`);
      }),
    );
}

// `apigov audit` and `apigov audit verify`: the audit trail, newest first (GET /v1/audit), and a check
// of its hash chain (GET /v1/audit/verify), optionally against an anchor kept outside apigov.
import { InvalidArgumentError, type Command } from 'commander';
import { parseAuditAnchor } from '@apigov/model';
import { auditEvents, verifyAudit } from '../api.js';
import { kindOption, outputOption, positiveInt, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import type { Session } from '../session.js';

interface VerifyOptions extends OutputOptions {
  anchor?: string;
}

/** `SEQ:HASH` as verify prints it */
function anchorOption(value: string): string {
  if (parseAuditAnchor(value) === undefined) throw new InvalidArgumentError('must be SEQ:HASH, as `apigov audit verify` prints it.');
  return value;
}

interface AuditOptions extends OutputOptions {
  limit?: number;
  actor?: string;
  kind?: string;
  name?: string;
  action?: string;
}

export function registerAuditCommands(program: Command, session: Session): void {
  const audit = program
    .command('audit')
    .description('list audit events, newest first')
    .option('--limit <n>', 'at most this many events (1-500, default 50)', positiveInt(500))
    .option('--actor <name>', 'only events by this user')
    .option('--kind <kind>', 'only events on this kind', kindOption)
    .option('--name <name>', 'only events on resources with this name')
    .option('--action <action>', 'only this action')
    .addOption(outputOption())
    .action(
      session.action(async (opts: AuditOptions) => {
        const items = await auditEvents(await session.client(), {
          limit: opts.limit,
          actor: opts.actor,
          kind: opts.kind,
          name: opts.name,
          action: opts.action,
        });
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No audit events found.\n'
            : renderTable(['seq', 'time', 'actor', 'action', 'kind', 'name'], items.map((e) => [e.seq, e.at, e.actor, e.action, e.kind, e.name])),
        );
      }),
    );

  audit
    .command('verify')
    .description("check the audit trail's hash chain; exit 1 if it is broken. Keep the anchor it prints outside apigov (a ticket, a Git commit, write-once storage) and pass it later: events cut from the end or history rewritten up to it are then found too")
    .option('--anchor <seq:hash>', 'an anchor an earlier verify printed: the chain must still hold that event unchanged', anchorOption)
    .addOption(outputOption())
    .action(
      session.action(async (opts: VerifyOptions) => {
        const result = await verifyAudit(await session.client(), opts.anchor);
        emit(opts.output, result, () => {
          if (!result.ok) return `audit chain BROKEN at seq ${result.seq}: ${result.reason}\n`;
          const anchored = opts.anchor === undefined ? '' : `, including the anchored seq ${opts.anchor.split(':')[0]}`;
          return `audit chain verified: ${result.count} events${anchored}\n${result.count === 0 ? '' : `anchor: ${result.count}:${result.lastHash}\n`}`;
        });
        return result.ok ? 0 : 1;
      }),
    );
}

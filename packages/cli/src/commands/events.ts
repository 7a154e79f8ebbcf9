// `apigov events`: the events you may see, oldest first (GET /v1/events), filtered by type and time; `--follow`
// keeps listening (long-polls) and prints each new event as it is committed, one line (or one JSON object) each.
import type { Command } from 'commander';
import { outputOption, positiveInt, sinceOption, type OutputOptions } from '../options.js';
import { emit, renderTable, writeOut } from '../output.js';
import type { Session } from '../session.js';

interface EventsOptions extends OutputOptions {
  type?: string;
  since?: string;
  follow?: boolean;
  limit?: number;
}

interface Event {
  id: string;
  seq: number;
  type: string;
  time: string;
  actor: string;
  subject: { kind: string; name: string; version?: string; environment?: string };
  data: Record<string, unknown>;
}

const subjectOf = (e: Event) => [e.subject.kind, e.subject.name, e.subject.version, e.subject.environment].filter(Boolean).join(' ');

export function registerEventCommands(program: Command, session: Session): void {
  program
    .command('events')
    .description('list the events you may see, oldest first; --follow keeps printing new ones')
    .option('--type <types>', 'only these event types, comma-separated (GET /v1/events/types lists them)')
    .option('--since <time>', 'only events at or after this time, or this long ago (30m, 2h, 7d)', sinceOption)
    .option('--limit <n>', 'at most this many events (1-500, default 100) without --follow', positiveInt(500))
    .option('--follow', 'keep listening and print each new event as it happens (Ctrl-C stops)')
    .addOption(outputOption())
    .action(
      session.action(async (opts: EventsOptions) => {
        const cp = await session.client();
        const ask = async (after: number | undefined, wait: number) =>
          (await cp.request('GET', '/v1/events', { query: { type: opts.type, since: opts.since, after, limit: opts.limit, wait } })).body as { items: Event[]; next?: number };
        if (!opts.follow) {
          const page = await ask(undefined, 0);
          emit(opts.output, page.items, () =>
            page.items.length === 0 ? 'No events found.\n' : renderTable(['time', 'type', 'subject', 'actor'], page.items.map((e) => [e.time, e.type, subjectOf(e), e.actor])),
          );
          return;
        }
        let after: number | undefined;
        for (;;) {
          const page = await ask(after, 25);
          for (const e of page.items) writeOut(opts.output === 'table' ? `${e.time}  ${e.type}  ${subjectOf(e)}  ${e.actor}\n` : `${JSON.stringify(e)}\n`);
          if (page.next !== undefined) after = page.next;
        }
      }),
    );
}

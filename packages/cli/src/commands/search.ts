// `apigov search`: finds APIs in the catalog by text, team, tag, environment and state (GET /v1/search).
import { Option, type Command } from 'commander';
import { LIFECYCLE_STATES } from '@apigov/model';
import { searchApis, type SearchState } from '../api.js';
import { nameOption, outputOption, positiveInt, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import type { Session } from '../session.js';

interface SearchOptions extends OutputOptions {
  team?: string;
  tag?: string;
  env?: string;
  state?: string;
  limit?: number;
}

/** `v1:dev=published v1:prod=deprecated` */
export function formatStates(states: readonly SearchState[] | undefined): string | undefined {
  if (states === undefined || states.length === 0) return undefined;
  return states.map((s) => `${s.version}:${s.environment}=${s.state}`).join(' ');
}

export function registerSearchCommand(program: Command, session: Session): void {
  program
    .command('search')
    .description('search the API catalog')
    .argument('[query]', 'words to look for in names, titles, descriptions and tags')
    .option('--team <team>', 'only APIs owned by this team', nameOption)
    .option('--tag <tag>', 'only APIs with this tag')
    .option('--env <environment>', 'only APIs with a version in this environment', nameOption)
    .addOption(new Option('--state <state>', 'only APIs with a version in this state').choices(LIFECYCLE_STATES))
    .option('--limit <n>', 'at most this many results (1-500, default 50)', positiveInt(500))
    .addOption(outputOption())
    .action(
      session.action(async (query: string | undefined, opts: SearchOptions) => {
        const result = await searchApis(await session.client(), {
          q: query,
          team: opts.team,
          tag: opts.tag,
          environment: opts.env,
          state: opts.state,
          limit: opts.limit,
        });
        const items = result.items ?? [];
        emit(opts.output, items, () => {
          if (items.length === 0) return 'No APIs found.\n';
          const table = renderTable(
            ['name', 'title', 'owner', 'tags', 'states'],
            items.map((a) => [a.name, a.title, a.owner, a.tags?.length ? a.tags.join(',') : undefined, formatStates(a.states)]),
          );
          const more = result.total !== undefined && result.total > items.length ? `showing ${items.length} of ${result.total} (use --limit)\n` : '';
          return table + more;
        });
      }),
    );
}

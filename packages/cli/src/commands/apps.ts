// `apigov apps create|list`: the applications a team consumes APIs with (POST/GET /v1/applications);
// subscriptions and API keys belong to an application.
import type { Command } from 'commander';
import { createResource, listResources, whoami } from '../api.js';
import { usageError } from '../errors.js';
import { nameOption, outputOption, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { createdAt, newResource, specField } from '../resources.js';
import type { Session } from '../session.js';

interface CreateAppOptions extends OutputOptions {
  team?: string;
  displayName?: string;
  description?: string;
}

export function registerAppCommands(program: Command, session: Session): void {
  const apps = program.command('apps').description('create and list applications (what subscribes to APIs and holds API keys)');

  apps
    .command('create')
    .description('create an application owned by a team')
    .argument('<name>', 'application name (lowercase letters, digits, -)')
    .option('--team <team>', 'owner team (default: your team)', nameOption)
    .option('--display-name <text>', 'human-readable name')
    .option('--description <text>', 'what the application does')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: CreateAppOptions) => {
        const cp = await session.client();
        let team = opts.team;
        if (team === undefined) {
          const me = await whoami(cp);
          if (me.team === undefined) throw usageError(`${me.name} belongs to no team: give --team TEAM`);
          team = me.team;
        }
        const doc = newResource('Application', name, { owner: team, displayName: opts.displayName, description: opts.description });
        const created = await createResource(cp, 'applications', doc);
        emit(opts.output, created, () => `Application '${created.metadata?.name ?? name}' created for team ${team}.\n`);
      }),
    );

  apps
    .command('list')
    .description('list the applications you can see')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const items = await listResources(await session.client(), 'applications');
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No applications found.\n'
            : renderTable(
                ['name', 'team', 'display name', 'created'],
                items.map((a) => [a.metadata.name, specField(a, 'owner'), specField(a, 'displayName'), createdAt(a)]),
              ),
        );
      }),
    );
}

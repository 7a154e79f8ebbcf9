// `apigov teams create|list`: the teams that own APIs (POST/GET /v1/teams).
import type { Command } from 'commander';
import { createResource, listResources } from '../api.js';
import { outputOption, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { createdAt, newResource, specField } from '../resources.js';
import type { Session } from '../session.js';

export function registerTeamCommands(program: Command, session: Session): void {
  const teams = program.command('teams').description('create and list teams');

  teams
    .command('create')
    .description('create a team')
    .argument('<name>', 'team name (lowercase letters, digits, -)')
    .option('--display-name <text>', 'human-readable name')
    .option('--description <text>', 'what the team does')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions & { displayName?: string; description?: string }) => {
        const doc = newResource('Team', name, { displayName: opts.displayName, description: opts.description });
        const created = await createResource(await session.client(), 'teams', doc);
        emit(opts.output, created, () => `Team '${created.metadata?.name ?? name}' created.\n`);
      }),
    );

  teams
    .command('list')
    .description('list teams')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const items = await listResources(await session.client(), 'teams');
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No teams found.\n'
            : renderTable(['name', 'display name', 'created'], items.map((t) => [t.metadata.name, specField(t, 'displayName'), createdAt(t)])),
        );
      }),
    );
}

// `apigov users create|list`: people and automation with a role and a team (POST/GET /v1/users);
// `create` prints the new user's token, which the control plane shows only once.
import { Option, type Command } from 'commander';
import { ROLES } from '@apigov/model';
import { createResource, listResources } from '../api.js';
import { usageError } from '../errors.js';
import { outputOption, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { newResource, specField } from '../resources.js';
import type { Session } from '../session.js';

interface CreateUserOptions extends OutputOptions {
  team?: string;
  role: string;
  email?: string;
  displayName?: string;
}

export function registerUserCommands(program: Command, session: Session): void {
  const users = program.command('users').description('create and list users');

  users
    .command('create')
    .description("create a user and print its token (shown once)")
    .argument('<name>', 'user name (lowercase letters, digits, -)')
    .option('--team <team>', 'team the user belongs to (required unless --role platform-admin)')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
    .option('--email <email>', 'e-mail address')
    .option('--display-name <text>', 'human-readable name')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: CreateUserOptions) => {
        if (opts.team === undefined && opts.role !== 'platform-admin') throw usageError(`--team is required for role ${opts.role}`);
        const doc = newResource('User', name, { team: opts.team, role: opts.role, email: opts.email, displayName: opts.displayName });
        const created = await createResource(await session.client(), 'users', doc);
        const userName = created.metadata?.name ?? name;
        emit(opts.output, { name: userName, token: created.token, ...created }, () => {
          const who = [opts.role, opts.team === undefined ? undefined : `team ${opts.team}`].filter(Boolean).join(', ');
          const token = created.token === undefined ? 'no token was returned' : `token (shown once, store it now): ${created.token}`;
          return `User '${userName}' created (${who}).\n${token}\n`;
        });
      }),
    );

  users
    .command('list')
    .description('list users')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const items = await listResources(await session.client(), 'users');
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No users found.\n'
            : renderTable(
                ['name', 'team', 'role', 'email'],
                items.map((u) => [u.metadata.name, specField(u, 'team'), specField(u, 'role'), specField(u, 'email')]),
              ),
        );
      }),
    );
}

// `apigov envs create|list`: the deployment environments APIs are published to (POST/GET /v1/environments).
// (Not to be confused with `apigov env`, which switches CLI contexts.)
import type { Command } from 'commander';
import { createResource, listResources } from '../api.js';
import { nonNegativeInt, outputOption, urlOption, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { newResource, specField } from '../resources.js';
import type { Session } from '../session.js';

interface CreateEnvironmentOptions extends OutputOptions {
  production?: boolean;
  order?: number;
  gatewayUrl?: string;
  displayName?: string;
}

export function registerEnvironmentCommands(program: Command, session: Session): void {
  const envs = program.command('envs').description('create and list environments (dev, staging, prod, ...)');

  envs
    .command('create')
    .description('create an environment')
    .argument('<name>', 'environment name (lowercase letters, digits, -)')
    .option('--production', 'mark it as a production environment')
    .option('--order <n>', 'position in promotion order (dev 0, staging 1, prod 2, ...)', nonNegativeInt)
    .option('--gateway-url <url>', "public base URL of this environment's gateway", urlOption)
    .option('--display-name <text>', 'human-readable name')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: CreateEnvironmentOptions) => {
        const doc = newResource('Environment', name, {
          production: opts.production,
          order: opts.order,
          gatewayUrl: opts.gatewayUrl,
          displayName: opts.displayName,
        });
        const created = await createResource(await session.client(), 'environments', doc);
        emit(opts.output, created, () => `Environment '${created.metadata?.name ?? name}' created.\n`);
      }),
    );

  envs
    .command('list')
    .description('list environments in promotion order')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const items = await listResources(await session.client(), 'environments');
        const order = (e: (typeof items)[number]) => Number(e.spec?.order ?? 0);
        const sorted = [...items].sort((a, b) => order(a) - order(b) || a.metadata.name.localeCompare(b.metadata.name));
        emit(opts.output, items, () =>
          items.length === 0
            ? 'No environments found.\n'
            : renderTable(
                ['name', 'production', 'order', 'gateway url'],
                sorted.map((e) => [e.metadata.name, e.spec?.production === true ? 'yes' : 'no', specField(e, 'order'), specField(e, 'gatewayUrl')]),
              ),
        );
      }),
    );
}

// `apigov keys create|rotate|revoke|list`: an application's API keys. A new key is printed once (the
// control plane keeps only its hash) and remembered in the CLI config, in the context of the control
// plane in use (`keys: {<app>: <key>}`), so `apigov call --app APP` can send it.
import { createHash } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { createKey, deleteResource, getResource, listKeys, rotateKey, type IssuedKey, type ResourceDocument } from '../api.js';
import { forgetKey, openKeyStore, rememberKey, type KeyStore } from '../config.js';
import { CLI_CONFIG, CliError } from '../errors.js';
import { nameOption, outputOption, positiveInt, type OutputOptions } from '../options.js';
import { emit, renderTable } from '../output.js';
import { createdAt, specField } from '../resources.js';
import type { Session } from '../session.js';

const MAX_OVERLAP_SECONDS = 30 * 86400;

interface Remembered {
  context?: string;
  configFile: string;
  error?: string;
}

function overlapOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_OVERLAP_SECONDS) throw new InvalidArgumentError(`must be a whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS} (30 days).`);
  return Number(value);
}

/** Remembers the key; a failure is reported after the key has been shown (it cannot be shown again). */
async function remember(store: KeyStore, app: string, key: string): Promise<Remembered> {
  try {
    return { context: await rememberKey(store, app, key), configFile: store.path };
  } catch (e) {
    return { configFile: store.path, error: e instanceof Error ? e.message : String(e) };
  }
}

function keyBlock(issued: IssuedKey, app: string, headline: string, remembered: Remembered, extra: string[] = []): string {
  const lines = [headline, '', `  ${issued.key}`, '', 'Save this key now; it will not be shown again.', ...extra];
  if (remembered.context !== undefined) lines.push(`Remembered in context '${remembered.context}' of ${remembered.configFile} for \`apigov call --app ${app}\`.`);
  return lines.join('\n') + '\n';
}

function notRemembered(remembered: Remembered): CliError | undefined {
  if (remembered.error === undefined) return undefined;
  return new CliError(CLI_CONFIG, `the key above was not remembered in ${remembered.configFile} (${remembered.error}); give it to \`apigov call\` with --key`);
}

function expiresText(cred: ResourceDocument): string {
  const at = specField(cred, 'expiresAt');
  if (at === undefined) return 'never';
  return Date.parse(at) <= Date.now() ? `${at} (expired)` : at;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The newest API key credential of an application. */
function newest(creds: readonly ResourceDocument[]): ResourceDocument | undefined {
  return creds
    .filter((c) => specField(c, 'type') === 'api-key')
    .reduce<ResourceDocument | undefined>((best, c) => {
      if (best === undefined) return c;
      const a = createdAt(best) ?? '';
      const b = createdAt(c) ?? '';
      return b > a || (b === a && c.metadata.name > best.metadata.name) ? c : best;
    }, undefined);
}

export function registerKeyCommands(program: Command, session: Session): void {
  const keys = program.command('keys').description("create, rotate, revoke and list an application's API keys");

  keys
    .command('create')
    .description('create an API key for an application; it is printed once and remembered for `apigov call`')
    .requiredOption('--app <application>', 'application', nameOption)
    .option('--expires-in-days <n>', 'the key stops working after this many days (1-3650; default never)', positiveInt(3650))
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { app: string; expiresInDays?: number }) => {
        const store = await openKeyStore(await session.target(), session.env);
        const issued = await createKey(await session.client(), opts.app, opts.expiresInDays);
        const remembered = await remember(store, opts.app, issued.key);
        const name = issued.credential?.metadata?.name;
        emit(opts.output, { key: issued.key, credential: issued.credential, application: opts.app, remembered }, () =>
          keyBlock(issued, opts.app, `API key for ${opts.app} created (credential ${name}, expires ${expiresText(issued.credential)}):`, remembered),
        );
        const failed = notRemembered(remembered);
        if (failed !== undefined) throw failed;
      }),
    );

  keys
    .command('rotate')
    .description('issue a new key for an application; the old one keeps working for an overlap window')
    .requiredOption('--app <application>', 'application', nameOption)
    .option('--credential <name>', 'credential to replace (default: the newest key of the application)', nameOption)
    .option('--overlap <seconds>', 'how long the old key keeps working (0-2592000, default 86400)', overlapOption)
    .option('--expires-in-days <n>', 'the new key stops working after this many days (1-3650; default never)', positiveInt(3650))
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { app: string; credential?: string; overlap?: number; expiresInDays?: number }) => {
        const store = await openKeyStore(await session.target(), session.env);
        const cp = await session.client();
        let credential = opts.credential;
        if (credential === undefined) {
          credential = newest(await listKeys(cp, opts.app))?.metadata.name;
          if (credential === undefined) {
            throw new CliError('APIGOV_ERR_RESOURCE_NOT_FOUND', `${opts.app} has no API key to rotate; create one with \`apigov keys create --app ${opts.app}\``);
          }
        }
        const issued = await rotateKey(cp, credential, { overlapSeconds: opts.overlap, expiresInDays: opts.expiresInDays });
        const app = specField(issued.credential, 'application') ?? opts.app;
        const remembered = await remember(store, app, issued.key);
        const previous = issued.previous;
        const old =
          previous === undefined
            ? []
            : Date.parse(previous.expiresAt) <= Date.now()
              ? [`The old key (credential ${previous.name}) no longer works.`]
              : [`The old key (credential ${previous.name}) keeps working until ${previous.expiresAt}.`];
        emit(opts.output, { key: issued.key, credential: issued.credential, previous, application: app, remembered }, () =>
          keyBlock(issued, app, `New API key for ${app} (credential ${issued.credential?.metadata?.name}, expires ${expiresText(issued.credential)}):`, remembered, old),
        );
        const failed = notRemembered(remembered);
        if (failed !== undefined) throw failed;
      }),
    );

  keys
    .command('revoke')
    .description('revoke an API key at once (and forget it if it is the remembered one)')
    .argument('<credential>', 'credential name (see `apigov keys list --app APP`)')
    .addOption(outputOption())
    .action(
      session.action(async (name: string, opts: OutputOptions) => {
        const store = await openKeyStore(await session.target(), session.env);
        const cp = await session.client();
        const cred = await getResource(cp, 'credentials', name);
        await deleteResource(cp, 'credentials', name);
        const app = specField(cred, 'application');
        const hash = specField(cred, 'keyHash');
        const prefix = specField(cred, 'prefix');
        const forgotten =
          app !== undefined && (hash !== undefined || prefix !== undefined)
            ? await forgetKey(store, app, (key) => (hash !== undefined ? sha256(key) === hash : key.startsWith(prefix as string)))
            : false;
        emit(opts.output, { name, application: app, revoked: true, forgotten }, () =>
          `Credential ${name}${app === undefined ? '' : ` of ${app}`} revoked; its key no longer works.\n` +
          (forgotten ? `The remembered key for ${app} in context '${store.context}' was forgotten.\n` : ''),
        );
      }),
    );

  keys
    .command('list')
    .description("list an application's credentials (never the keys themselves), oldest first")
    .requiredOption('--app <application>', 'application', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { app: string }) => {
        const items = (await listKeys(await session.client(), opts.app)).sort((a, b) => (createdAt(a) ?? '').localeCompare(createdAt(b) ?? '') || a.metadata.name.localeCompare(b.metadata.name));
        emit(opts.output, items, () =>
          items.length === 0
            ? `${opts.app} has no API keys: create one with \`apigov keys create --app ${opts.app}\`.\n`
            : renderTable(['name', 'prefix', 'expires'], items.map((c) => [c.metadata.name, specField(c, 'prefix'), expiresText(c)])),
        );
      }),
    );
}

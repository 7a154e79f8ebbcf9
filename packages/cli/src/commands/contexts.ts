// `apigov login`, `apigov config` and `apigov env`: saving a verified control plane + token as a
// context, showing which one is in use and who you are there, listing and switching contexts.
import { InvalidArgumentError, type Command } from 'commander';
import { whoami, type Whoami } from '../api.js';
import { configPath, DEFAULT_CONTEXT, loadConfig, normaliseUrl, saveConfig } from '../config.js';
import { usageError } from '../errors.js';
import { ControlPlaneClient } from '../http.js';
import { outputOption, urlOption, type OutputOptions } from '../options.js';
import { emit, renderFields, renderTable, writeErr, writeOut } from '../output.js';
import { deviceLogin, pickProvider, ssoContext } from '../sso.js';
import type { Session } from '../session.js';

function contextName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) throw new InvalidArgumentError('must be letters, digits, ".", "_" or "-".');
  return value;
}

function maxAgeOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 86400) throw new InvalidArgumentError('must be a number of seconds from 0 to 86400.');
  return n;
}

function describeWho(me: Whoami): string {
  const parts = [me.role, me.team === undefined ? undefined : `team ${me.team}`, me.admin ? 'admin' : undefined].filter(Boolean);
  return `${me.name} (${parts.join(', ')})`;
}

export function registerContextCommands(program: Command, session: Session): void {
  program
    .command('login')
    .description('sign in to a control plane, with a token (checked with GET /v1/whoami) or through its identity provider (--sso: the device flow), save it as a context and make it current')
    .requiredOption('--url <url>', 'control plane base URL, e.g. http://127.0.0.1:4000', urlOption)
    .option('--token <token>', 'bearer token')
    .option('--sso', "sign in through the control plane's identity provider: confirm a code in your browser")
    .option('--provider <name>', 'the identity provider, when the control plane has several')
    .option('--acr-values <values>', 'with --sso: ask the identity provider for these authentication classes (a step-up: multi-factor)')
    .option('--max-age <seconds>', 'with --sso: sign in again at the identity provider if the last sign-in there is older', maxAgeOption)
    .option('--context <name>', 'name of the context to save', contextName, DEFAULT_CONTEXT)
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions & { url: string; token?: string; sso?: boolean; provider?: string; acrValues?: string; maxAge?: number; context: string }) => {
        const url = normaliseUrl(opts.url);
        if ((opts.token === undefined) === (opts.sso !== true)) throw usageError('give either --token TOKEN or --sso');
        if ((opts.provider ?? opts.acrValues ?? opts.maxAge) !== undefined && opts.sso !== true) throw usageError('--provider, --acr-values and --max-age go with --sso');
        const path = configPath(session.env);
        const config = await loadConfig(path);
        // remembered API keys stay with the context as long as it points at the same control plane
        const keys = config.contexts[opts.context]?.url === url ? config.contexts[opts.context]?.keys : undefined;
        if (opts.sso === true) {
          const cp = new ControlPlaneClient(url);
          const provider = await pickProvider(cp, opts.provider);
          const signedIn = await deviceLogin(cp, provider, (line) => (opts.output === 'table' ? writeOut(`${line}\n`) : writeErr(`${line}\n`)), {
            ...(opts.acrValues !== undefined && { acrValues: opts.acrValues }),
            ...(opts.maxAge !== undefined && { maxAge: opts.maxAge }),
          });
          config.contexts[opts.context] = ssoContext(url, signedIn, keys);
          config.current = opts.context;
          await saveConfig(config, path);
          const me = signedIn.user;
          const teams = (me.teams ?? []).map((t) => `${t.role} of ${t.team}`).join(', ');
          emit(opts.output, { context: opts.context, url, configFile: path, provider: signedIn.provider, expiresAt: signedIn.expiresAt, whoami: me }, () =>
            `Signed in to ${url} as ${me.name} (${me.admin ? 'platform admin' : teams || me.role}) through ${provider.displayName}.\nContext '${opts.context}' saved in ${path} and is now current.\n`,
          );
          return;
        }
        const token = opts.token!;
        const me = await whoami(new ControlPlaneClient(url, token));
        config.contexts[opts.context] = keys === undefined ? { url, token } : { url, token, keys };
        config.current = opts.context;
        await saveConfig(config, path);
        emit(opts.output, { context: opts.context, url, configFile: path, whoami: me }, () =>
          `Logged in to ${url} as ${describeWho(me)}.\nContext '${opts.context}' saved in ${path} and is now current.\n`,
        );
      }),
    );

  const config = program
    .command('config')
    .description('show the control plane in use (context, URL, where they come from) and who you are there')
    .addOption(outputOption())
    .action(
      session.action(async (opts: OutputOptions) => {
        const path = configPath(session.env);
        const target = await session.target();
        const local = {
          configFile: path,
          context: target.context,
          url: target.url,
          urlFrom: target.urlFrom,
          tokenFrom: target.tokenFrom,
        };
        const fields: Array<[string, string | undefined]> = [
          ['config file', path],
          ['context', target.context ?? '(none)'],
          ['url', target.urlFrom === 'APIGOV_URL' ? `${target.url} (from APIGOV_URL)` : target.url],
          ['token', target.tokenFrom === 'none' ? '(none)' : target.tokenFrom === 'APIGOV_TOKEN' ? 'from APIGOV_TOKEN' : 'from context'],
        ];
        let me: Whoami;
        try {
          me = await whoami(await session.client());
        } catch (e) {
          if (opts.output === 'table') writeOut(renderFields(fields));
          throw e;
        }
        emit(opts.output, { ...local, whoami: me }, () =>
          renderFields([...fields, ['user', me.name], ['role', me.role], ['team', me.team ?? '-'], ['admin', me.admin ? 'yes' : 'no']]),
        );
      }),
    );

  config
    .command('set-url')
    .description('change the URL of a context (default: the current one)')
    .argument('<url>', 'control plane base URL', urlOption)
    .option('--context <name>', 'context to change', contextName)
    .addOption(outputOption())
    .action(
      session.action(async (url: string, opts: OutputOptions & { context?: string }) => {
        const path = configPath(session.env);
        const cfg = await loadConfig(path);
        const name = opts.context ?? cfg.current;
        if (name === undefined) throw usageError('no current context: give --context NAME or run `apigov login`');
        const normalised = normaliseUrl(url);
        cfg.contexts[name] = { ...cfg.contexts[name], url: normalised };
        cfg.current ??= name;
        await saveConfig(cfg, path);
        emit(opts.output, { context: name, url: normalised }, () => `Context '${name}' now points at ${normalised}.\n`);
      }),
    );

  program
    .command('env')
    .description('list contexts, or make NAME the current one')
    .argument('[name]', 'context to switch to')
    .addOption(outputOption())
    .action(
      session.action(async (name: string | undefined, opts: OutputOptions) => {
        const path = configPath(session.env);
        const cfg = await loadConfig(path);
        const names = Object.keys(cfg.contexts).sort();
        if (name === undefined) {
          const rows = names.map((n) => ({ name: n, url: cfg.contexts[n].url, current: n === cfg.current }));
          emit(opts.output, rows, () =>
            rows.length === 0
              ? 'No contexts yet: run `apigov login --url URL --token TOKEN`.\n'
              : renderTable(['current', 'name', 'url'], rows.map((r) => [r.current ? '*' : '', r.name, r.url])),
          );
          return;
        }
        const ctx = cfg.contexts[name];
        if (ctx === undefined) throw usageError(`unknown context '${name}'${names.length ? `; known: ${names.join(', ')}` : '; run `apigov login` first'}`);
        cfg.current = name;
        await saveConfig(cfg, path);
        emit(opts.output, { name, url: ctx.url, current: true }, () => `Switched to context '${name}' (${ctx.url}).\n`);
      }),
    );
}

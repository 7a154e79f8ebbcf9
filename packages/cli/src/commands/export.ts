// `apigov export`: every resource the caller may see, as the multi-document YAML `apply` accepts
// (GET /v1/export); `-o json` prints `{documents}` instead. `--format backstage|envoy-gateway` prints the model for
// that platform instead (GET /v1/exports/FORMAT), with envoy-gateway's options passed as query parameters.
import { Option, type Command } from 'commander';
import { exportFormat, exportJson, exportYaml } from '../api.js';
import { kindsOption, nameOption, outputOption, positiveInt, urlOption, type OutputOptions } from '../options.js';
import { usageError } from '../errors.js';
import { renderData, writeOut } from '../output.js';
import type { Session } from '../session.js';

interface ExportOptions extends OutputOptions {
  kind?: string;
  format: string;
  env?: string;
  namespace?: string;
  gatewayClass?: string;
  extAuthzUrl?: string;
  limits?: string;
  trustedProxies?: string;
  bodyLimit?: number;
}

export function registerExportCommand(program: Command, session: Session): void {
  program
    .command('export')
    .description('print every resource you can see as multi-document YAML (the output format is YAML unless -o json)')
    .addOption(new Option('--format <format>', "apigov's own resources, or the model for another platform (GET /v1/exports/FORMAT)").choices(['apigov', 'backstage', 'envoy-gateway']).default('apigov'))
    .option('--kind <kinds>', 'only these kinds, comma-separated (Team, Environment, User, Plan, GovernanceRuleset, Api)', kindsOption)
    .option('--env <environment>', 'envoy-gateway: only this environment (default: every one)', nameOption)
    .option('--namespace <namespace>', 'envoy-gateway: the namespace of every resource (default apigov)')
    .option('--gateway-class <name>', 'envoy-gateway: the GatewayClass of the Gateways (default eg)')
    .option('--ext-authz-url <url>', 'envoy-gateway: where Envoy reaches `apigov gateway --mode ext-authz`', urlOption)
    .addOption(new Option('--limits <where>', 'envoy-gateway: who counts rate limits, quotas and plans: ext-authz (default, exact) or envoy (global rate limit)').choices(['ext-authz', 'envoy']))
    .option('--trusted-proxies <cidrs>', 'envoy-gateway: proxies in front of Envoy whose X-Forwarded-For is believed')
    .option('--body-limit <bytes>', 'envoy-gateway: request body limit', positiveInt(Number.MAX_SAFE_INTEGER))
    .addOption(outputOption())
    .action(
      session.action(async (opts: ExportOptions) => {
        const envoyOnly = (['env', 'namespace', 'gatewayClass', 'extAuthzUrl', 'limits', 'trustedProxies', 'bodyLimit'] as const).filter((k) => opts[k] !== undefined);
        if (opts.format !== 'envoy-gateway' && envoyOnly.length > 0) throw usageError(`--${envoyOnly[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --format envoy-gateway only`);
        if (opts.format !== 'apigov' && opts.kind !== undefined) throw usageError('--kind applies to --format apigov only');
        const cp = await session.client();
        if (opts.format !== 'apigov') {
          const params = { env: opts.env, namespace: opts.namespace, gatewayClass: opts.gatewayClass, extAuthzUrl: opts.extAuthzUrl, limits: opts.limits, trustedProxies: opts.trustedProxies, bodyLimit: opts.bodyLimit?.toString() };
          const body = await exportFormat(cp, opts.format, opts.output === 'json', params);
          writeOut(typeof body === 'string' ? (body.endsWith('\n') ? body : `${body}\n`) : renderData('json', body));
          return;
        }
        if (opts.output === 'json') {
          writeOut(renderData('json', await exportJson(cp, opts.kind)));
          return;
        }
        const text = await exportYaml(cp, opts.kind);
        writeOut(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      }),
    );
}

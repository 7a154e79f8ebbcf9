// What an API's traffic looks like, from the gateways' reports: `apigov stats` (totals, per application,
// per minute), `apigov health` (per environment: gateways in sync, error rate, latency), and `apigov errors`
// / `apigov logs` (recent failed / recent requests). GET /v1/apis/{name}/stats|health|errors|logs.
import type { Command } from 'commander';
import { apiHealth, apiSamples, apiStats, type EnvironmentHealth, type RequestSample, type TrafficSummary } from '../api.js';
import { nameOption, outputOption, positiveInt, type OutputOptions } from '../options.js';
import { emit, renderTable, type Cell } from '../output.js';
import type { Session } from '../session.js';

const MAX_MINUTES = 60 * 24 * 31;

function ms(v: number | string | null | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  return `${v} ms`;
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1).replace(/\.0$/, '')}%`;
}

function totalsLine(t: TrafficSummary): string {
  if (t.requests === 0) return 'no requests';
  const parts = [
    `${t.requests} request${t.requests === 1 ? '' : 's'}`,
    `${t.errors4xx} 4xx (${percent(t.errors4xx, t.requests)})`,
    `${t.errors5xx} 5xx (${percent(t.errors5xx, t.requests)})`,
  ];
  if (t.meanMs !== null) parts.push(`mean ${t.meanMs} ms`);
  if (t.p95Ms !== null) parts.push(`p95 ${t.p95Ms} ms`);
  return parts.join(', ');
}

/** `03:41` when every minute is on the same UTC day, else `11-23 03:41`. */
function minuteLabels(minutes: readonly string[]): string[] {
  const days = new Set(minutes.map((m) => m.slice(0, 10)));
  return minutes.map((m) => (days.size <= 1 ? m.slice(11, 16) : `${m.slice(5, 10)} ${m.slice(11, 16)}`));
}

function gatewaysCell(e: EnvironmentHealth): string {
  const live = e.gateways.filter((g) => !g.stale);
  const stale = e.gateways.length - live.length;
  return `${live.filter((g) => g.inSync).length}/${live.length}${stale > 0 ? ` (+${stale} stale)` : ''}`;
}

function samplesTable(items: readonly RequestSample[]): string {
  return renderTable(
    ['time', 'status', 'code', 'method', 'path', 'app', 'request-id'],
    items.map((s): Cell[] => [s.at, s.status, s.code, s.method, s.path, s.application, s.requestId]),
  );
}

export function registerTrafficCommands(program: Command, session: Session): void {
  program
    .command('stats')
    .description("an API's traffic from the gateways' reports: totals, per application, per minute")
    .argument('<api>', 'API name')
    .option('--env <environment>', 'only this environment (default: all)', nameOption)
    .option('--minutes <n>', `how far back (1-${MAX_MINUTES}, default 60)`, positiveInt(MAX_MINUTES))
    .option('--app <application>', 'only this application', nameOption)
    .addOption(outputOption())
    .action(
      session.action(async (api: string, opts: OutputOptions & { env?: string; minutes?: number; app?: string }) => {
        const stats = await apiStats(await session.client(), api, { environment: opts.env, application: opts.app, minutes: opts.minutes });
        emit(opts.output, stats, () => {
          const scope = [api, opts.app, stats.environment ?? opts.env ?? 'all environments', `last ${stats.minutes ?? opts.minutes ?? 60} minutes`].filter(Boolean).join(', ');
          let out = `${scope}: ${totalsLine(stats.totals)}.\n`;
          const apps = stats.byApplication ?? [];
          if (apps.length > 0) {
            out +=
              '\n' +
              renderTable(
                ['application', 'requests', '4xx', '5xx', 'mean', 'p95'],
                apps.map((a) => [a.application, a.requests, a.errors4xx, a.errors5xx, ms(a.meanMs), ms(a.p95Ms)]),
              );
          }
          const series = [...(stats.series ?? [])].sort((a, b) => a.minute.localeCompare(b.minute));
          if (series.length > 0) {
            const labels = minuteLabels(series.map((s) => s.minute));
            out += '\n' + renderTable(['minute (utc)', 'requests', '4xx', '5xx', 'p95'], series.map((s, i) => [labels[i], s.requests, s.errors4xx, s.errors5xx, ms(s.p95Ms)]));
          }
          return out;
        });
      }),
    );

  program
    .command('health')
    .description('per environment: gateway status, snapshot version, gateways in sync, and the last 5 minutes of traffic')
    .argument('<api>', 'API name')
    .addOption(outputOption())
    .action(
      session.action(async (api: string, opts: OutputOptions) => {
        const health = await apiHealth(await session.client(), api);
        const envs = health.environments ?? [];
        emit(opts.output, health, () => {
          if (envs.length === 0) return `${api} is not served in any environment.\n`;
          let out = renderTable(
            ['env', 'status', 'snapshot', 'gateways', 'requests', 'error rate', 'p95', 'versions'],
            envs.map((e) => [
              e.environment,
              e.status,
              e.snapshotVersion,
              gatewaysCell(e),
              e.last5Minutes.requests,
              `${+(e.last5Minutes.errorRate * 100).toFixed(2)}%`,
              ms(e.last5Minutes.p95Ms),
              e.versions.join(' '),
            ]),
          );
          out += 'GATEWAYS: in sync/live; REQUESTS, ERROR RATE (5xx) and P95: the last 5 minutes.\n';
          for (const e of envs) {
            for (const g of e.gateways) {
              if (g.rejected) out += `${e.environment}: gateway ${g.gateway} refused snapshot v${g.rejected.version}: ${g.rejected.reason}\n`;
            }
          }
          return out;
        });
      }),
    );

  for (const which of ['errors', 'logs'] as const) {
    program
      .command(which)
      .description(which === 'errors' ? "an API's recent failed requests (status 400 and above), newest first" : "an API's recent requests, newest first")
      .argument('<api>', 'API name')
      .option('--limit <n>', 'at most this many (1-1000, default 50)', positiveInt(1000))
      .option('--env <environment>', 'only this environment', nameOption)
      .addOption(outputOption())
      .action(
        session.action(async (api: string, opts: OutputOptions & { limit?: number; env?: string }) => {
          const items = await apiSamples(await session.client(), api, which, { limit: opts.limit, environment: opts.env });
          emit(opts.output, items, () => (items.length === 0 ? `No ${which === 'errors' ? 'failed requests' : 'requests'} recorded for ${api}.\n` : samplesTable(items)));
        }),
      );
  }
}

// Reporting to the control plane: every few seconds (and on shutdown) POST /v1/gateway/reports with this gateway's
// applied snapshot, last refusal and usage deltas; when the control plane is down the usage stays (bounded) and
// goes with the next report.
import { request } from 'undici';
import type { GatewayReport } from '@apigov/model';
import type { UsageRecorder } from './usage.js';

export interface ReporterOptions {
  controlPlaneUrl: string;
  token: string | undefined;
  gatewayId: string;
  environment: string;
  startedAt: string;
  intervalMs: number;
  usage: UsageRecorder;
  /** applied version/hash and the last refusal */
  state(): Pick<GatewayReport, 'appliedVersion' | 'appliedHash' | 'rejected'>;
  onError(message: string): void;
}

export class Reporter {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  sent = 0;
  failed = 0;
  private lastError: string | undefined;

  constructor(private readonly options: ReporterOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  /** sends one report now (one at a time) */
  report(): Promise<void> {
    this.sending ??= this.send().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async send(): Promise<void> {
    const o = this.options;
    const { usage, errors, requests, restore } = o.usage.drain();
    const state = o.state();
    const report: GatewayReport = {
      gateway: o.gatewayId,
      environment: o.environment,
      appliedVersion: state.appliedVersion,
      ...(state.appliedHash !== undefined && { appliedHash: state.appliedHash }),
      ...(state.rejected !== undefined && { rejected: state.rejected }),
      startedAt: o.startedAt,
      usage,
      errors,
      requests,
    };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    try {
      const res = await request(new URL('/v1/gateway/reports', o.controlPlaneUrl.endsWith('/') ? o.controlPlaneUrl : `${o.controlPlaneUrl}/`), {
        method: 'POST',
        headers,
        body: JSON.stringify(report),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}${text === '' ? '' : `: ${text.slice(0, 300)}`}`);
      this.sent++;
      this.lastError = undefined;
    } catch (err) {
      restore();
      this.failed++;
      const message = err instanceof Error ? err.message : String(err);
      if (message !== this.lastError) o.onError(`report to ${o.controlPlaneUrl}: ${message}`);
      this.lastError = message;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.sending;
    await this.report();
  }
}

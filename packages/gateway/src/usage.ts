// Usage the gateway reports to the control plane: counts and latency histograms per
// (minute, api, version, route, operation, application, status class), plus recent error samples. Memory is bounded;
// every report carries the deltas since the last accepted one, and a failed report is merged back.
import { LATENCY_BUCKETS_MS, type GatewayReport, type SnapshotOperation } from '@apigov/model';
import { STATUS_CLASSES, statusClassIndex, type RouteTraffic } from './metrics.js';

type UsageEntry = GatewayReport['usage'][number];
type ErrorSample = GatewayReport['errors'][number];
type RequestSample = GatewayReport['requests'][number];

const NB = LATENCY_BUCKETS_MS.length;
/** keys of latencyBuckets in every report: each upper bound in ms, then +Inf (counts are per bucket, not cumulative) */
export const LATENCY_BUCKET_KEYS: readonly string[] = [...LATENCY_BUCKETS_MS.map(String), '+Inf'];
/** the report format allows 10,000 usage entries; beyond that, new cells are dropped (and counted) */
export const MAX_USAGE_CELLS = 10_000;
export const MAX_ERROR_SAMPLES = 100;
export const MAX_REQUEST_SAMPLES = 100;
/** at most one request sample per this many ms, so sampling costs nothing at high rates */
const REQUEST_SAMPLE_EVERY_MS = 50;

class UsageCell {
  count = 0;
  latencySumMs = 0;
  readonly buckets = new Uint32Array(NB + 1);
}

/** the OpenAPI operation a request matched, or null when it matched none */
type OperationKey = SnapshotOperation | null;
/** minute → route series → operation → application ('' when anonymous) → status class cells */
type MinuteUsage = Map<RouteTraffic, Map<OperationKey, Map<string, Array<UsageCell | undefined>>>>;

/** `GET /payments/{id}`: how reports name an operation (the diff engine names it the same way) */
function operationLabel(op: OperationKey): string | undefined {
  return op === null ? undefined : `${op.method} ${op.path}`;
}

export class UsageRecorder {
  private minutes = new Map<number, MinuteUsage>();
  private cells = 0;
  private errors: ErrorSample[] = [];
  private requests: RequestSample[] = [];
  private lastSampleAt = 0;
  /** cells that could not be kept because the bound was reached */
  dropped = 0;

  /** `now`: the wall clock (epoch ms) at the end of the request */
  record(series: RouteTraffic, operation: SnapshotOperation | undefined, application: string | undefined, status: number, durationMs: number, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    let m = this.minutes.get(minute);
    if (m === undefined) {
      m = new Map();
      this.minutes.set(minute, m);
    }
    let ops = m.get(series);
    if (ops === undefined) {
      ops = new Map();
      m.set(series, ops);
    }
    const op = operation ?? null;
    let apps = ops.get(op);
    if (apps === undefined) {
      apps = new Map();
      ops.set(op, apps);
    }
    const app = application ?? '';
    let classes = apps.get(app);
    if (classes === undefined) {
      classes = [undefined, undefined, undefined, undefined, undefined];
      apps.set(app, classes);
    }
    const c = statusClassIndex(status);
    let cell = classes[c];
    if (cell === undefined) {
      if (this.cells >= MAX_USAGE_CELLS) {
        this.dropped++;
        return;
      }
      cell = new UsageCell();
      classes[c] = cell;
      this.cells++;
    }
    cell.count++;
    cell.latencySumMs += durationMs;
    let b = 0;
    while (b < NB && durationMs > LATENCY_BUCKETS_MS[b]!) b++;
    cell.buckets[b]!++;
  }

  /** whether a request sample is wanted now (time-gated) */
  wantsRequestSample(now: number): boolean {
    if (now - this.lastSampleAt < REQUEST_SAMPLE_EVERY_MS) return false;
    this.lastSampleAt = now;
    return true;
  }

  recordRequest(sample: RequestSample): void {
    if (this.requests.length >= MAX_REQUEST_SAMPLES) this.requests.shift();
    this.requests.push(sample);
  }

  recordError(sample: ErrorSample): void {
    if (this.errors.length >= MAX_ERROR_SAMPLES) this.errors.shift();
    this.errors.push(sample);
  }

  /** Takes everything recorded so far (and forgets it); `restore` puts it back when the report failed. */
  drain(): { usage: UsageEntry[]; errors: ErrorSample[]; requests: RequestSample[]; restore: () => void } {
    const minutes = this.minutes;
    const errors = this.errors;
    const requests = this.requests;
    this.minutes = new Map();
    this.errors = [];
    this.requests = [];
    this.cells = 0;
    const usage: UsageEntry[] = [];
    for (const [minute, routes] of minutes) {
      const iso = new Date(minute * 60_000).toISOString();
      for (const [series, ops] of routes) {
        for (const [op, apps] of ops) {
          const operation = operationLabel(op);
          for (const [app, classes] of apps) {
            for (let c = 0; c < 5; c++) {
              const cell = classes[c];
              if (cell === undefined) continue;
              const latencyBuckets: Record<string, number> = {};
              for (let i = 0; i <= NB; i++) latencyBuckets[LATENCY_BUCKET_KEYS[i]!] = cell.buckets[i]!;
              usage.push({
                minute: iso,
                api: series.api,
                version: series.version,
                route: series.route,
                ...(operation !== undefined && { operation }),
                ...(app !== '' && { application: app }),
                statusClass: STATUS_CLASSES[c]!,
                count: cell.count,
                latencySumMs: Math.round(cell.latencySumMs * 1000) / 1000,
                latencyBuckets,
              });
            }
          }
        }
      }
    }
    const restore = (): void => this.merge(minutes, errors, requests);
    return { usage, errors, requests, restore };
  }

  private merge(minutes: Map<number, MinuteUsage>, errors: ErrorSample[], requests: RequestSample[]): void {
    for (const [minute, routes] of minutes) {
      for (const [series, ops] of routes) {
        for (const [op, apps] of ops) {
          for (const [app, classes] of apps) {
            for (let c = 0; c < 5; c++) {
              const old = classes[c];
              if (old === undefined) continue;
              let target = this.minutes.get(minute)?.get(series)?.get(op)?.get(app)?.[c];
              if (target === undefined) {
                if (this.cells >= MAX_USAGE_CELLS) {
                  this.dropped += old.count;
                  continue;
                }
                let m = this.minutes.get(minute);
                if (m === undefined) this.minutes.set(minute, (m = new Map()));
                let o = m.get(series);
                if (o === undefined) m.set(series, (o = new Map()));
                let a = o.get(op);
                if (a === undefined) o.set(op, (a = new Map()));
                let cl = a.get(app);
                if (cl === undefined) a.set(app, (cl = [undefined, undefined, undefined, undefined, undefined]));
                target = new UsageCell();
                cl[c] = target;
                this.cells++;
              }
              target.count += old.count;
              target.latencySumMs += old.latencySumMs;
              for (let i = 0; i <= NB; i++) target.buckets[i]! += old.buckets[i]!;
            }
          }
        }
      }
    }
    this.errors = [...errors, ...this.errors].slice(-MAX_ERROR_SAMPLES);
    this.requests = [...requests, ...this.requests].slice(-MAX_REQUEST_SAMPLES);
  }
}

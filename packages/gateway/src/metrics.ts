// Prometheus metrics of one gateway process: RED per api, version, route and status class, upstream latency,
// the applied snapshot version and refused snapshots. Label values come from the snapshot only (bounded).
// The hot path adds to plain arrays on a per-route series; prom-client reads them when /metrics is scraped.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Upper bounds (seconds) of both duration histograms. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const B = DURATION_BUCKETS_SECONDS.length;

/** 100..599 → 0..4 */
export function statusClassIndex(status: number): number {
  const i = ((status / 100) | 0) - 1;
  return i < 0 ? 0 : i > 4 ? 4 : i;
}

function bucketIndex(seconds: number): number {
  for (let i = 0; i < B; i++) if (seconds <= DURATION_BUCKETS_SECONDS[i]!) return i;
  return B;
}

/** The traffic of one route (api, version, route id), split by status class. */
export class RouteTraffic {
  readonly requests = new Float64Array(5);
  readonly durationSum = new Float64Array(5);
  /** non-cumulative bucket counts, (B + 1) per status class, the last one +Inf */
  readonly durationBuckets = new Float64Array(5 * (B + 1));
  readonly upstreamCount = new Float64Array(5);
  readonly upstreamSum = new Float64Array(5);
  readonly upstreamBuckets = new Float64Array(5 * (B + 1));

  constructor(
    readonly api: string,
    readonly version: string,
    readonly route: string,
  ) {}

  /** upstreamSeconds < 0 when the request never reached an upstream */
  record(status: number, seconds: number, upstreamSeconds: number): void {
    const c = statusClassIndex(status);
    this.requests[c]!++;
    this.durationSum[c]! += seconds;
    this.durationBuckets[c * (B + 1) + bucketIndex(seconds)]!++;
    if (upstreamSeconds >= 0) {
      this.upstreamCount[c]!++;
      this.upstreamSum[c]! += upstreamSeconds;
      this.upstreamBuckets[c * (B + 1) + bucketIndex(upstreamSeconds)]!++;
    }
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** A prom-client compatible metric whose values are read from RouteTraffic series at scrape time. */
class TrafficMetric {
  readonly aggregator = 'sum' as const;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly series: () => Iterable<RouteTraffic>,
    private readonly pick: 'requests' | 'duration' | 'upstream',
  ) {}

  get(): MetricJson {
    const values: MetricValue[] = [];
    for (const t of this.series()) {
      for (let c = 0; c < 5; c++) {
        const labels = { api: t.api, version: t.version, route: t.route, status_class: STATUS_CLASSES[c]! };
        if (this.pick === 'requests') {
          if (t.requests[c] !== 0) values.push({ value: t.requests[c]!, labels });
          continue;
        }
        const count = this.pick === 'duration' ? t.requests[c]! : t.upstreamCount[c]!;
        if (count === 0) continue;
        const buckets = this.pick === 'duration' ? t.durationBuckets : t.upstreamBuckets;
        let cumulative = 0;
        for (let i = 0; i <= B; i++) {
          cumulative += buckets[c * (B + 1) + i]!;
          values.push({ metricName: `${this.name}_bucket`, value: cumulative, labels: { ...labels, le: i < B ? DURATION_BUCKETS_SECONDS[i]! : '+Inf' } });
        }
        values.push({ metricName: `${this.name}_sum`, value: this.pick === 'duration' ? t.durationSum[c]! : t.upstreamSum[c]!, labels });
        values.push({ metricName: `${this.name}_count`, value: count, labels });
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {}
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly series = new Map<string, RouteTraffic>();
  private readonly snapshotVersion: Gauge;
  private readonly snapshotRejected: Counter;
  /** requests that matched no route (or arrived before any snapshot) */
  readonly unrouted: RouteTraffic;

  constructor(options: { processMetrics?: boolean } = {}) {
    const all = () => this.series.values();
    for (const m of [
      new TrafficMetric('apigov_requests_total', 'Requests answered by the gateway, per api, version, route and status class', 'counter', all, 'requests'),
      new TrafficMetric('apigov_request_duration_seconds', 'Time from request arrival to the end of the answer', 'histogram', all, 'duration'),
      new TrafficMetric('apigov_upstream_duration_seconds', 'Time spent waiting on and streaming from the upstream', 'histogram', all, 'upstream'),
    ]) {
      // registerMetric only needs what prom-client reads (name, get); the class matches that shape.
      this.registry.registerMetric(m as unknown as Counter);
    }
    this.snapshotVersion = new Gauge({ name: 'apigov_snapshot_version', help: 'Version of the applied snapshot (0: none)', registers: [this.registry], aggregator: 'min' });
    this.snapshotRejected = new Counter({ name: 'apigov_snapshot_rejected_total', help: 'Snapshots refused (invalid, wrong hash, or a policy failed to compile)', registers: [this.registry] });
    this.snapshotVersion.set(0);
    this.unrouted = this.routeTraffic('none', 'none', 'none');
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'apigov_gateway_' });
  }

  /** The series of one route; the same object across snapshots, so swaps keep counting. */
  routeTraffic(api: string, version: string, route: string): RouteTraffic {
    const key = `${api}\u0000${version}\u0000${route}`;
    let t = this.series.get(key);
    if (t === undefined) {
      t = new RouteTraffic(api, version, route);
      this.series.set(key, t);
    }
    return t;
  }

  snapshotApplied(version: number): void {
    this.snapshotVersion.set(version);
  }

  snapshotRefused(): void {
    this.snapshotRejected.inc();
  }
}

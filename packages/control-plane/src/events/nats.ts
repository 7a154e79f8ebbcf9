// Events out to NATS JetStream (`--events-nats URL`): every event, in commit order, on the subject
// `apigov.events.<type>` of the stream APIGOV_EVENTS (created when missing), with the event id as the message id so
// JetStream drops a resend after a crash; a cursor row, locked while publishing, keeps replicas from publishing twice.
import { connect, StringCodec, type JetStreamClient, type NatsConnection } from 'nats';
import type { Store } from '@apigov/store';
import { eventEnvelope } from '../routes/events.js';

const CURSOR = 'nats';
export const NATS_STREAM = 'APIGOV_EVENTS';
const codec = StringCodec();

export class NatsPublisher {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly url: string,
    private readonly intervalMs = 200,
  ) {}

  async start(): Promise<void> {
    this.nc = await connect({ servers: this.url, name: 'apigov-control-plane', maxReconnectAttempts: -1 });
    const jsm = await this.nc.jetstreamManager();
    try {
      await jsm.streams.info(NATS_STREAM);
    } catch {
      await jsm.streams.add({ name: NATS_STREAM, subjects: ['apigov.events.>'], duplicate_window: 120_000_000_000 });
    }
    this.js = this.nc.jetstream();
    // the first run starts from now: a bus attached later does not get the history
    await this.store.transaction(async (tx) => {
      if ((await tx.lockCursor(CURSOR)) === undefined) await tx.setCursor(CURSOR, await tx.maxEventSeq());
    });
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.publish()
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
          const soon = this.again;
          this.again = false;
          this.schedule(soon ? 0 : this.intervalMs);
        });
    }, ms);
  }

  /** a commit in this process: publish now rather than at the next interval */
  kick(): void {
    if (this.stopped || this.js === undefined) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private async publish(): Promise<void> {
    const js = this.js;
    if (js === undefined) return;
    await this.store.transaction(async (tx) => {
      const cursor = (await tx.lockCursor(CURSOR)) ?? 0;
      const events = await tx.listEvents({ afterSeq: cursor, limit: 500 });
      for (const e of events) {
        await js.publish(`apigov.events.${e.type}`, codec.encode(JSON.stringify(eventEnvelope(e))), { msgID: e.id });
        await tx.setCursor(CURSOR, e.seq);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.nc?.drain().catch(() => undefined);
  }
}

// Events out to NATS JetStream (`--events-nats URL`): every event, in commit order, on the subject
// `apigov.events.<type>` of the stream APIGOV_EVENTS (created when missing), with the event id as the message id so
// JetStream drops a resend after a crash; a cursor row, locked while publishing, keeps replicas from publishing twice.
import { connect, StringCodec, type JetStreamClient, type NatsConnection } from 'nats';
import type { Store } from '@apigov/store';
import { eventEnvelope } from '../routes/events.js';
import { Rounds } from './rounds.js';

const CURSOR = 'nats';
export const NATS_STREAM = 'APIGOV_EVENTS';
const codec = StringCodec();

export class NatsPublisher {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly rounds: Rounds;

  constructor(
    private readonly store: Store,
    private readonly url: string,
    intervalMs = 200,
  ) {
    this.rounds = new Rounds(() => this.publish(), intervalMs);
  }

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
    this.rounds.start(0);
  }

  /** a commit in this process: publish now rather than at the next interval */
  kick(): void {
    if (this.js !== undefined) this.rounds.kick();
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
    await this.rounds.stop();
    await this.nc?.drain().catch(() => undefined);
  }
}

// The relay's one activity: read a gap-free batch after the checkpoint, publish every event to
// JetStream with Nats-Msg-Id = event id, wait for all acks, then advance the checkpoint. A failure
// anywhere before the last step leaves the checkpoint where it was (it never passes an unacked
// event: docs/architecture.md, "Event pipeline"); the retry republishes and the broker drops what it already has.
import { heartbeat } from '@temporalio/activity';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { DatabasePool } from '../services/kernel/database.ts';
import {
  advanceCheckpoint,
  checkpointOf,
  loadCheckpoint,
  readOutboxBatch,
  type OutboxCheckpoint,
  type OutboxEvent,
} from '../services/kernel/outbox.ts';
import { RELAY_READER, subjectOf, type EventsStream } from '../runtime/events-stream.ts';
import type { PgListener } from '../runtime/pg-listener.ts';

/** Publishes one event and resolves with the broker's ack. Swappable so tests can make it fail. */
export type Publish = (subject: string, event: OutboxEvent) => Promise<PubAck>;

export interface RelayBatchResult {
  published: number;
  duplicates: number;
  checkpoint: OutboxCheckpoint;
}

export function jetStreamPublish(js: JetStreamClient): Publish {
  return (subject, event) => js.publish(subject, JSON.stringify(event), { msgID: event.eventId, timeout: 10_000 });
}

export function createRelayActivities(deps: {
  pool: DatabasePool;
  stream: EventsStream;
  publish: Publish;
  listener: PgListener;
}) {
  return {
    async relayBatch(input: { batchSize: number; idleWaitMs: number }): Promise<RelayBatchResult> {
      const checkpoint = await loadCheckpoint(deps.pool, RELAY_READER);
      // Taken before each read: a commit that lands between the read and the wait still wakes it.
      let since = deps.listener.generation;
      let events = await readOutboxBatch(deps.pool, checkpoint, input.batchSize);
      const idleUntil = Date.now() + input.idleWaitMs;
      while (events.length === 0 && Date.now() < idleUntil) {
        heartbeat({ idle: true });
        // Woken by a commit, or after a bounded second: the new events may sit behind an older
        // open transaction, which the next round (or its own commit's notification) lets through.
        await deps.listener.waitForChange(since, Math.min(1_000, idleUntil - Date.now()));
        since = deps.listener.generation;
        events = await readOutboxBatch(deps.pool, checkpoint, input.batchSize);
      }
      if (events.length === 0) return { published: 0, duplicates: 0, checkpoint };

      heartbeat({ publishing: events.length });
      const acks = await Promise.all(events.map((event) => deps.publish(subjectOf(deps.stream, event), event)));
      const next = checkpointOf(events[events.length - 1]!);
      await advanceCheckpoint(deps.pool, RELAY_READER, next);
      return { published: events.length, duplicates: acks.filter((ack) => ack.duplicate).length, checkpoint: next };
    },
  };
}

export type RelayActivities = ReturnType<typeof createRelayActivities>;

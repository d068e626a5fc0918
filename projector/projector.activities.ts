// The projector's batch activity: fetch from the projection's durable JetStream consumer, apply
// the batch in one Postgres transaction together with its checkpoint, ack after commit. An event
// whose apply fails is retried in place (a savepoint per attempt); after MAX_ATTEMPTS it is parked
// in projection_dead_letters and the projection goes on (docs/architecture.md, "Event pipeline"). Retrying in place
// rather than by nak keeps the stream order: a nak'd message would come back after later ones.
import { heartbeat } from '@temporalio/activity';
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { sql, type CommonQueryMethods } from 'slonik';
import type { DatabasePool } from '../services/kernel/database.ts';
import { outboxEvent } from '../services/kernel/outbox.ts';
import { inTransaction } from '../services/kernel/transaction.ts';
import { consumerName, type EventsStream } from '../runtime/events-stream.ts';
import {
  loadProjectionCheckpoint,
  PROJECTION_APPLIED_CHANNEL,
  type ApplyEvent,
} from '../services/read-models/projections.ts';

/** Attempts at applying one event before it is parked, and the pause between them. */
export const MAX_ATTEMPTS = 3;
export const RETRY_DELAY_MS = 200;

export interface ProjectBatchResult {
  applied: number;
  unchanged: number;
  parked: number;
  lastSequence: number | null;
}

export function createProjectorActivities(deps: {
  pool: DatabasePool;
  js: JetStreamClient;
  stream: EventsStream;
  projections: Record<string, ApplyEvent>;
  onParked?: (projection: string) => void;
}) {
  return {
    async projectBatch(input: {
      projection: string;
      batchSize: number;
      maxWaitMs: number;
    }): Promise<ProjectBatchResult> {
      const apply = deps.projections[input.projection];
      if (!apply) throw new Error(`unknown projection ${input.projection}`);
      const consumer = await deps.js.consumers.get(deps.stream.name, consumerName(input.projection));
      const batch = await fetchAvailable(consumer, input.batchSize, input.maxWaitMs);
      const result: ProjectBatchResult = { applied: 0, unchanged: 0, parked: 0, lastSequence: null };
      if (batch.length === 0) return result;
      heartbeat({ fetched: batch.length });

      try {
        await inTransaction(deps.pool, async (tx) => {
          await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext(${`projection:${input.projection}`}))`);
          const checkpoint = await loadProjectionCheckpoint(tx, input.projection);
          for (const message of batch) {
            if (message.seq <= checkpoint) continue; // committed before and its ack was lost: only ack again
            let failure: unknown;
            for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
              try {
                const event = outboxEvent.parse(message.json());
                const outcome = await tx.transaction((savepoint) => apply(savepoint, event));
                if (outcome === 'applied') result.applied++;
                else result.unchanged++;
                failure = undefined;
                break;
              } catch (error) {
                failure = error;
                if (attempt < MAX_ATTEMPTS)
                  await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
              }
            }
            if (failure !== undefined) {
              await park(tx, input.projection, message, failure);
              result.parked++;
              deps.onParked?.(input.projection);
            }
          }
          const last = batch[batch.length - 1]!;
          // Delivered at commit: readers waiting for a version (GET …?minVersion) look again.
          await tx.query(sql.unsafe`select pg_notify(${PROJECTION_APPLIED_CHANNEL}, ${input.projection})`);
          await tx.query(sql.unsafe`
            insert into projection_checkpoints (projection, stream_sequence) values (${input.projection}, ${last.seq})
            on conflict (projection) do update set stream_sequence = excluded.stream_sequence, updated_at = now()
            where projection_checkpoints.stream_sequence < excluded.stream_sequence`);
        });
      } catch (error) {
        // Nothing was committed: hand the whole batch back, in order, for the activity's retry.
        for (const message of batch) message.nak();
        throw error;
      }
      await Promise.all(batch.map((message) => message.ackAck()));
      result.lastSequence = batch[batch.length - 1]!.seq;
      return result;
    },
  };
}
/**
 * Waits (up to maxWaitMs) for the first message, then takes what is already pending, up to the
 * batch size, without waiting for a full batch: a fetch of N waits until N arrive or it expires,
 * which would hold a lone event back for the whole expiry.
 */
async function fetchAvailable(consumer: Consumer, batchSize: number, maxWaitMs: number): Promise<JsMsg[]> {
  const first = await consumer.next({ expires: maxWaitMs });
  if (!first) return [];
  const batch = [first];
  const pending = Math.min(batchSize - 1, (await consumer.info()).num_pending);
  if (pending > 0) {
    for await (const message of await consumer.fetch({ max_messages: pending, expires: 2_000 })) batch.push(message);
  }
  return batch;
}

async function park(tx: CommonQueryMethods, projection: string, message: JsMsg, error: unknown): Promise<void> {
  const attempts = MAX_ATTEMPTS;
  let event: unknown;
  try {
    event = message.json();
  } catch {
    event = { unparsable: message.string() };
  }
  const eventId =
    message.headers?.get('Nats-Msg-Id') ||
    (event as { eventId?: string }).eventId ||
    '00000000-0000-0000-0000-000000000000';
  await tx.query(sql.unsafe`
    insert into projection_dead_letters (projection, event_id, stream_sequence, subject, event, error, attempts)
    values (${projection}, ${eventId}, ${message.seq}, ${message.subject}, ${sql.jsonb(event as never)},
            ${error instanceof Error ? error.message : String(error)}, ${attempts})
    on conflict (projection, event_id) do nothing`);
}

export type ProjectorActivities = ReturnType<typeof createProjectorActivities>;

// The projector's batch activity: fetch from the projection's durable JetStream consumer, apply
// the batch in one Postgres transaction together with its checkpoint, ack after commit. An event
// that fails is retried by redelivery; after MAX_ATTEMPTS it is parked in projection_dead_letters
// and the projection goes on (DESIGN §4 Projector).
import { heartbeat } from '@temporalio/activity';
import type { Consumer, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../services/kernel/database.ts';
import { outboxEvent, type OutboxEvent } from '../services/kernel/outbox.ts';
import { inTransaction } from '../services/kernel/transaction.ts';
import type { EventsStream } from '../relay/events-stream.ts';
import type { ApplyOutcome } from './projections/counters.projection.ts';

/** Deliveries of one event before it is parked. */
export const MAX_ATTEMPTS = 3;

export type ApplyEvent = (db: CommonQueryMethods, event: OutboxEvent) => Promise<ApplyOutcome>;

export interface ProjectBatchResult {
  applied: number;
  unchanged: number;
  parked: number;
  retrying: number;
  lastSequence: number | null;
}

export function consumerName(projection: string): string {
  return `projection-${projection}`;
}

const checkpointRow = z.object({ sequence: z.coerce.number() });

export async function loadProjectionCheckpoint(db: CommonQueryMethods, projection: string): Promise<number> {
  const row = await db.maybeOne(sql.type(checkpointRow)`
    select stream_sequence as sequence from projection_checkpoints where projection = ${projection}`);
  return row?.sequence ?? 0;
}

export function createProjectorActivities(deps: {
  pool: DatabasePool;
  js: JetStreamClient;
  stream: EventsStream;
  projections: Record<string, ApplyEvent>;
  onParked?: (projection: string) => void;
}) {
  return {
    async projectBatch(input: { projection: string; batchSize: number; maxWaitMs: number }): Promise<ProjectBatchResult> {
      const apply = deps.projections[input.projection];
      if (!apply) throw new Error(`unknown projection ${input.projection}`);
      const consumer = await deps.js.consumers.get(deps.stream.name, consumerName(input.projection));
      const batch = await fetchAvailable(consumer, input.batchSize, input.maxWaitMs);
      const result: ProjectBatchResult = { applied: 0, unchanged: 0, parked: 0, retrying: 0, lastSequence: null };
      if (batch.length === 0) return result;
      heartbeat({ fetched: batch.length });

      const consumed = await inTransaction(deps.pool, async (tx) => {
        await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtext(${`projection:${input.projection}`}))`);
        const checkpoint = await loadProjectionCheckpoint(tx, input.projection);
        const done: JsMsg[] = [];
        for (const message of batch) {
          if (message.seq <= checkpoint) {
            done.push(message); // committed before, its ack was lost: ack again
            continue;
          }
          try {
            const event = outboxEvent.parse(message.json());
            const outcome = await tx.transaction((savepoint) => apply(savepoint, event));
            if (outcome === 'applied') result.applied++;
            else result.unchanged++;
          } catch (error) {
            if (message.info.deliveryCount < MAX_ATTEMPTS) break; // this and the rest are redelivered
            await park(tx, input.projection, message, error);
            result.parked++;
            deps.onParked?.(input.projection);
          }
          done.push(message);
        }
        const last = done[done.length - 1];
        if (last && last.seq > checkpoint) {
          await tx.query(sql.unsafe`
            insert into projection_checkpoints (projection, stream_sequence) values (${input.projection}, ${last.seq})
            on conflict (projection) do update set stream_sequence = excluded.stream_sequence, updated_at = now()
            where projection_checkpoints.stream_sequence < excluded.stream_sequence`);
        }
        return done;
      });

      await Promise.all(consumed.map((message) => message.ackAck()));
      for (const message of batch.slice(consumed.length)) {
        message.nak(1_000 * message.info.deliveryCount);
        result.retrying++;
      }
      result.lastSequence = consumed[consumed.length - 1]?.seq ?? null;
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
  let event: unknown;
  try {
    event = message.json();
  } catch {
    event = { unparsable: message.string() };
  }
  const eventId = message.headers?.get('Nats-Msg-Id') || (event as { eventId?: string }).eventId || '00000000-0000-0000-0000-000000000000';
  await tx.query(sql.unsafe`
    insert into projection_dead_letters (projection, event_id, stream_sequence, subject, event, error, attempts)
    values (${projection}, ${eventId}, ${message.seq}, ${message.subject}, ${sql.jsonb(event as never)},
            ${error instanceof Error ? error.message : String(error)}, ${message.info.deliveryCount})
    on conflict (projection, event_id) do nothing`);
}

export type ProjectorActivities = ReturnType<typeof createProjectorActivities>;

// The unified outbox (docs/architecture.md, "Invariants"): the writer every service uses inside its command transaction,
// and the gap-free reader the relay and the rebuild use.
import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { sql, type CommonQueryMethods, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { eventContract, type EventType } from '../../contracts/events.ts';

export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  actor?: string;
  idempotencyKey?: string;
  traceparent?: string;
  workflowId?: string;
  workflowRunId?: string;
}

export interface NewEvent {
  tenantId: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  /** Only event types of contracts/ (a type error otherwise); the payload is checked against its contract. */
  eventType: EventType;
  schemaVersion: number;
  payload: Record<string, unknown>;
  metadata: EventMetadata;
}

/** Throws for an event no contract describes, or whose payload its contract refuses: a bug, never stored. */
function assertContract(event: NewEvent): void {
  const contract = eventContract(event.aggregateType, event.eventType, event.schemaVersion);
  if (!contract)
    throw new Error(`no contract for ${event.aggregateType} event ${event.eventType} v${event.schemaVersion}`);
  const checked = contract.payload.safeParse(event.payload);
  if (!checked.success)
    throw new Error(
      `${event.eventType} v${event.schemaVersion} payload breaks its contract: ${checked.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
}

/** Appends events in the caller's transaction (invariant I1) and returns their ids in order. */
export async function appendEvents(tx: CommonQueryMethods, events: readonly NewEvent[]): Promise<string[]> {
  const ids = events.map(() => randomUUID());
  if (events.length > 0)
    await withOutboxSpan(events, ids, (traced) => tx.query(sql.unsafe`${insertEvents(traced, ids)}`));
  return ids;
}

const tracer = trace.getTracer('durable-workflow-backend/outbox');

/**
 * Runs `write`, the statement that inserts `events`, as an `outbox insert` span under the caller's
 * span, and gives it the events with that span's W3C `traceparent` in their metadata: stored in the
 * same transaction, it is where the relay and the projector continue the trace (the CloudEvents
 * distributed-tracing extension on the wire). Without an SDK (tracing off) the events stay as they are.
 */
export async function withOutboxSpan<T>(
  events: readonly NewEvent[],
  ids: readonly string[],
  write: (traced: readonly NewEvent[]) => Promise<T>,
): Promise<T> {
  if (events.length === 0) return write(events);
  return tracer.startActiveSpan(
    'outbox insert',
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'tenant.id': events[0]!.tenantId,
        'messaging.batch.message_count': events.length,
        'outbox.event_types': events.map((e) => e.eventType),
        'outbox.event_ids': [...ids],
      },
    },
    async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      const traced = carrier.traceparent
        ? events.map((e) => ({ ...e, metadata: { ...e.metadata, traceparent: carrier.traceparent } }))
        : events;
      try {
        return await write(traced);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * The INSERT of `events` (with their `ids`) into the outbox, in order, as one statement; with `gate`
 * (the name of a CTE) each row is inserted only if the gate returned a row — so a command's CAS
 * write, its events and its stored response can be one statement (services/kernel/command.ts).
 */
export function insertEvents(events: readonly NewEvent[], ids: readonly string[], gate?: string): FragmentSqlToken {
  const from = gate ? sql.fragment`from ${sql.identifier([gate])}` : sql.fragment``;
  events.forEach(assertContract);
  const rows = events.map(
    (event, i) => sql.fragment`
      select ${ids[i]!}::uuid, ${event.tenantId}::text, ${event.aggregateType}::text, ${event.aggregateId}::text,
             ${event.aggregateVersion}::bigint, ${event.eventType}::text, ${event.schemaVersion}::integer,
             ${sql.jsonb(event.payload as never)}, ${sql.jsonb(event.metadata as never)} ${from}`,
  );
  return sql.fragment`
    insert into event_outbox
      (event_id, tenant_id, aggregate_type, aggregate_id, aggregate_version, event_type, schema_version, payload, metadata)
    ${sql.join(rows, sql.fragment` union all `)}`;
}

/** A reader's position: the last (tx_id, position) it consumed. Both are 64-bit, kept as decimal strings. */
export interface OutboxCheckpoint {
  txId: string;
  position: string;
}

export const OUTBOX_START: OutboxCheckpoint = { txId: '0', position: '0' };

export const outboxEvent = z.object({
  position: z.string(),
  txId: z.string(),
  eventId: z.uuid(),
  tenantId: z.string(),
  aggregateType: z.string(),
  aggregateId: z.string(),
  aggregateVersion: z.coerce.number().int(),
  eventType: z.string(),
  schemaVersion: z.number().int(),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  occurredAt: z.coerce.number(),
});
export type OutboxEvent = z.infer<typeof outboxEvent>;

/**
 * The next events after `after` that are safe to read: only rows whose transaction id is below the
 * oldest transaction still running (snapshot xmin), so no later commit can land behind the
 * checkpoint (invariant I2). Ordered and checkpointed by (tx_id, position), never by position alone.
 */
export async function readOutboxBatch(
  db: CommonQueryMethods,
  after: OutboxCheckpoint,
  limit: number,
): Promise<OutboxEvent[]> {
  const rows = await db.any(sql.type(outboxEvent)`
    select position::text as position, tx_id::text as "txId", event_id as "eventId", tenant_id as "tenantId",
           aggregate_type as "aggregateType", aggregate_id as "aggregateId",
           aggregate_version as "aggregateVersion", event_type as "eventType",
           schema_version as "schemaVersion", payload, metadata, occurred_at as "occurredAt"
    from event_outbox
    where (tx_id, position) > (${after.txId}::xid8, ${after.position}::bigint)
      and tx_id < pg_snapshot_xmin(pg_current_snapshot())
    order by event_outbox.tx_id, event_outbox.position -- qualified: the bare name would sort by the text alias above
    limit ${limit}`);
  return [...rows];
}

/** The checkpoint just after `event`. */
export function checkpointOf(event: Pick<OutboxEvent, 'txId' | 'position'>): OutboxCheckpoint {
  return { txId: event.txId, position: event.position };
}

const checkpointRow = z.object({ txId: z.string(), position: z.string() });

/** A reader's saved checkpoint, or the start of the outbox. */
export async function loadCheckpoint(db: CommonQueryMethods, reader: string): Promise<OutboxCheckpoint> {
  const row = await db.maybeOne(sql.type(checkpointRow)`
    select tx_id::text as "txId", position::text as position from outbox_checkpoints where reader = ${reader}`);
  return row ?? OUTBOX_START;
}

/**
 * Moves a reader's checkpoint forward to `to`; never backwards (a late, retried call is a no-op).
 * A reader that publishes (the relay) also records the stream sequence of the event at `to`.
 */
export async function advanceCheckpoint(
  db: CommonQueryMethods,
  reader: string,
  to: OutboxCheckpoint,
  streamSequence: number | null = null,
): Promise<void> {
  await db.query(sql.unsafe`
    insert into outbox_checkpoints (reader, tx_id, position, stream_sequence)
    values (${reader}, ${to.txId}::xid8, ${to.position}::bigint, ${streamSequence})
    on conflict (reader) do update
      set tx_id = excluded.tx_id, position = excluded.position, stream_sequence = excluded.stream_sequence,
          updated_at = now()
    where (outbox_checkpoints.tx_id, outbox_checkpoints.position) < (excluded.tx_id, excluded.position)`);
}

const sequenceRow = z.object({ sequence: z.coerce.number().nullable() });

/** The stream sequence a publishing reader recorded with its checkpoint (null: none recorded yet). */
export async function loadStreamSequence(db: CommonQueryMethods, reader: string): Promise<number | null> {
  const row = await db.maybeOne(sql.type(sequenceRow)`
    select stream_sequence as sequence from outbox_checkpoints where reader = ${reader}`);
  return row?.sequence ?? null;
}

const lagRow = z.object({ events: z.coerce.number().int(), seconds: z.coerce.number() });

/** How far a checkpoint is behind the outbox: committed events after it, and the age of the oldest. */
export async function outboxLag(
  db: CommonQueryMethods,
  after: OutboxCheckpoint,
): Promise<{ events: number; seconds: number }> {
  return db.one(sql.type(lagRow)`
    select count(*) as events,
           coalesce(extract(epoch from now() - min(occurred_at)), 0) as seconds
    from event_outbox
    where (tx_id, position) > (${after.txId}::xid8, ${after.position}::bigint)`);
}

// The relay's activity: a loop that publishes the outbox to JetStream for as long as its workflow
// lets it (a minute by default), heartbeating, inside one Temporal activity. Each batch is a gap-free
// read after the checkpoint, published as a CloudEvent (contracts/envelope.ts: the wire format, not
// the outbox row) with Nats-Msg-Id = event id, and committed with the
// checkpoint only once every event is acked, so the checkpoint never passes an unacked event
// (docs/architecture.md, "Event pipeline"). The next batch is read while the acks are outstanding.
//
// Order on the stream (docs/event-order.md): event i of a batch is published expecting the stream's
// last sequence to be base + i. If one publish fails, every later one in the batch is refused by the
// broker instead of landing out of order; the retry starts again after the checkpoint. At start, a
// loop takes the relay's lease (services/kernel/lease.ts), which fences off any older loop, and
// reconciles: messages the stream holds beyond the recorded sequence (published, then the loop died
// before committing) must be the outbox's next events, and the checkpoint moves over them.
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { CLOUDEVENTS_CONTENT_TYPE, toEnvelope } from '../contracts/envelope.ts';
import type { DatabasePool } from '../services/kernel/database.ts';
import { holdLease, leaseHolder, takeLease, type Lease } from '../services/kernel/lease.ts';
import {
  advanceCheckpoint,
  checkpointOf,
  loadCheckpoint,
  loadStreamSequence,
  readOutboxBatch,
  type OutboxCheckpoint,
  type OutboxEvent,
} from '../services/kernel/outbox.ts';
import { RELAY_READER, subjectOf, type EventsStream } from '../runtime/events-stream.ts';
import type { PgListener } from '../runtime/pg-listener.ts';
import { contextOf, endSpans, traceparentOf } from '../runtime/tracing.ts';

/**
 * Publishes one event, expecting the stream's last sequence to be `after`, and resolves with the
 * broker's ack. Swappable so tests can make it fail.
 */
export type Publish = (subject: string, event: OutboxEvent, after: number) => Promise<PubAck>;

export interface RelayBatchResult {
  published: number;
  duplicates: number;
  checkpoint: OutboxCheckpoint;
}

export interface RelayLoopResult extends RelayBatchResult {
  batches: number;
}

export interface RelayLoopInput {
  batchSize: number;
  /** How long the loop runs before it returns to its workflow (which records progress and starts the next). */
  loopMs: number;
  /** Stop after this many batches (tests, and the one-batch `relayBatch` of older histories). */
  maxBatches?: number;
}

/**
 * Publishes with the broker's ack. An event written in a traced context (its stored `traceparent`)
 * is published in a `relay publish` span, child of its `outbox insert` span and ended at the ack;
 * the message's W3C `traceparent` header names that span, for the consumer to continue. The body's
 * CloudEvents `traceparent` extension keeps naming the write.
 */
export function jetStreamPublish(js: JetStreamClient, tracer: Tracer = trace.getTracer('relay')): Publish {
  return (subject, event, after) => {
    const head = headers();
    head.set('Content-Type', CLOUDEVENTS_CONTENT_TYPE);
    const publish = () =>
      js.publish(subject, JSON.stringify(toEnvelope(event)), {
        headers: head,
        msgID: event.eventId,
        expect: { lastSequence: after },
        timeout: 10_000,
      });
    if (typeof event.metadata.traceparent !== 'string') return publish();
    const span = tracer.startSpan(
      `relay publish ${event.eventType}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'publish',
          'messaging.destination.name': subject,
          'messaging.message.id': event.eventId,
          'tenant.id': event.tenantId,
          'event.type': event.eventType,
          'event.aggregate_version': event.aggregateVersion,
        },
      },
      contextOf(event.metadata),
    );
    const traceparent = traceparentOf(trace.setSpan(context.active(), span));
    if (traceparent) head.set('traceparent', traceparent);
    return publish().then(
      (ack) => {
        span.setAttributes({ 'messaging.nats.stream.sequence': ack.seq, 'messaging.nats.duplicate': ack.duplicate });
        endSpans([span]);
        return ack;
      },
      (error: unknown) => {
        endSpans([span], error);
        throw error;
      },
    );
  };
}

export function createRelayActivities(deps: {
  pool: DatabasePool;
  jsm: JetStreamManager;
  stream: EventsStream;
  publish: Publish;
  listener: PgListener;
}) {
  const relayLoop = async (input: RelayLoopInput): Promise<RelayLoopResult> => {
    const info = activityInfo();
    const lease = await takeLease(
      deps.pool,
      'relay',
      leaseHolder(`${info.workflowExecution?.runId ?? info.activityId}#${info.attempt}`),
    );
    const totals: RelayLoopResult = {
      published: 0,
      duplicates: 0,
      batches: 0,
      checkpoint: await loadCheckpoint(deps.pool, RELAY_READER),
    };
    let { sequence, sequential } = await reconcile(deps, lease, totals);
    const stopAt = Date.now() + input.loopMs;
    const signal = cancellationSignal();
    const more = () => !signal.aborted && Date.now() < stopAt && totals.batches < (input.maxBatches ?? Infinity);

    // Taken before each read: a commit that lands between the read and the wait still wakes it.
    let since = deps.listener.generation;
    let next: Promise<OutboxEvent[]> = readOutboxBatch(deps.pool, totals.checkpoint, input.batchSize);
    while (more()) {
      const events = await next;
      if (events.length === 0) {
        heartbeat(totals);
        // Woken by a commit, or after a bounded second: the new events may sit behind an older
        // open transaction, which the next round (or its own commit's notification) lets through.
        await deps.listener.waitForChange(since, Math.min(1_000, Math.max(0, stopAt - Date.now())));
        since = deps.listener.generation;
        next = readOutboxBatch(deps.pool, totals.checkpoint, input.batchSize);
        continue;
      }
      const to = checkpointOf(events[events.length - 1]!);
      since = deps.listener.generation;
      next = readOutboxBatch(deps.pool, to, input.batchSize);
      next.catch(() => undefined); // awaited next round; a failure here must not go unhandled if this batch throws
      const base = sequence;
      const acks = await deps.pool.transaction(async (tx) => {
        await holdLease(tx, lease);
        const acks = sequential
          ? await publishInTurn(deps, events, base)
          : await Promise.all(events.map((event, i) => deps.publish(subjectOf(deps.stream, event), event, base + i)));
        await advanceCheckpoint(tx, RELAY_READER, to, acks[acks.length - 1]!.seq);
        return acks;
      });
      sequence = Math.max(base, ...acks.map((ack) => ack.seq));
      sequential = false;
      totals.published += events.length;
      totals.duplicates += acks.filter((ack) => ack.duplicate).length;
      totals.batches++;
      totals.checkpoint = to;
      heartbeat(totals);
    }
    return totals;
  };

  return {
    relayLoop,
    /** The one-batch activity of histories recorded before the loop (`patched('pipeline-loop')`). */
    async relayBatch(input: { batchSize: number; idleWaitMs: number }): Promise<RelayBatchResult> {
      const { published, duplicates, checkpoint } = await relayLoop({
        batchSize: input.batchSize,
        loopMs: input.idleWaitMs,
        maxBatches: 1,
      });
      return { published, duplicates, checkpoint };
    },
  };
}

/**
 * Publishes one event after the other, each expecting the sequence the previous one left: for a first
 * batch that may hold events an older relay already stored (the broker acks those as duplicates
 * without storing them, before it checks the expected sequence).
 */
async function publishInTurn(
  deps: { stream: EventsStream; publish: Publish },
  events: OutboxEvent[],
  base: number,
): Promise<PubAck[]> {
  const acks: PubAck[] = [];
  let last = base;
  for (const event of events) {
    const ack = await deps.publish(subjectOf(deps.stream, event), event, last);
    if (!ack.duplicate) last = ack.seq;
    acks.push(ack);
  }
  return acks;
}

/**
 * Brings the checkpoint level with the stream and returns the stream's last sequence. Messages past
 * the recorded sequence were published by a loop that died before its commit; they must be the
 * outbox's next events in order (the sequence chain allows nothing else), else the stream and the
 * outbox disagree and the relay stops rather than guess.
 */
async function reconcile(
  deps: { pool: DatabasePool; jsm: JetStreamManager; stream: EventsStream },
  lease: Lease,
  totals: RelayLoopResult,
): Promise<{ sequence: number; sequential: boolean }> {
  const last = (await deps.jsm.streams.info(deps.stream.name)).state.last_seq;
  const recorded = await loadStreamSequence(deps.pool, RELAY_READER);
  // No sequence recorded yet (a new relay, or one checkpointed before sequences were recorded): the
  // stream's end is the base, and the first batch goes out one event at a time.
  if (recorded === null) return { sequence: last, sequential: true };
  if (recorded === last) return { sequence: last, sequential: false };
  if (last < recorded)
    throw new Error(
      `stream ${deps.stream.name} ends at sequence ${last} but the relay checkpointed sequence ${recorded}: ` +
        'messages were removed from the stream; recreate it and reset the relay checkpoint to republish (docs/event-order.md)',
    );
  const events = await readOutboxBatch(deps.pool, totals.checkpoint, last - recorded);
  for (let sequence = recorded + 1; sequence <= last; sequence++) {
    const stored = await deps.jsm.streams.getMessage(deps.stream.name, { seq: sequence });
    const event = events[sequence - recorded - 1];
    const id = stored?.header?.get('Nats-Msg-Id');
    if (!event || id !== event.eventId)
      throw new Error(
        `stream ${deps.stream.name} sequence ${sequence} holds event ${id ?? '(none)'} but the outbox's next event ` +
          `after the relay checkpoint is ${event?.eventId ?? '(none visible)'}: the stream was written by someone else`,
      );
  }
  const to = checkpointOf(events[events.length - 1]!);
  await deps.pool.transaction(async (tx) => {
    await holdLease(tx, lease);
    await advanceCheckpoint(tx, RELAY_READER, to, last);
  });
  totals.duplicates += events.length;
  totals.checkpoint = to;
  return { sequence: last, sequential: false };
}

export type RelayActivities = ReturnType<typeof createRelayActivities>;

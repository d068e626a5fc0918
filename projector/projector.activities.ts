// The projector's activity: a loop per projection that consumes the events stream continuously
// (an ordered JetStream consumer starting after the projection's checkpoint) and applies what has
// arrived, up to a batch, in one Postgres transaction together with its checkpoint, for as long as
// its workflow lets it (a minute by default), heartbeating. The checkpoint committed with the read
// models is the acknowledgement: a loop that dies mid-batch leaves nothing behind, and the next one
// starts its consumer after the checkpoint, so no broker-side ack state can disagree with the read
// models (docs/architecture.md, "Event pipeline"). Each loop takes the projection's lease first
// (services/kernel/lease.ts); a loop whose lease was taken cannot commit another batch.
//
// A batch is applied set-based (one statement per projection, services/read-models/): each event
// is checked first, and one that fails a check is parked in projection_dead_letters at once and
// counted, never taken as truth: its subject must be the one the relay gives its body, it must
// keep its contract, and it must follow its aggregate's read-model version by one (an older one is
// a duplicate and changes nothing; a jump is a forged or misrouted event). If the batch statement itself fails, that batch falls back to
// one event at a time, each retried in place (a savepoint per attempt) and parked after
// MAX_ATTEMPTS; the projection goes on. Retrying in place keeps the stream order.
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import type { DatabasePool } from '../services/kernel/database.ts';
import { holdLease, leaseHolder, takeLease } from '../services/kernel/lease.ts';
import { eventEnvelope, fromEnvelope } from '../contracts/envelope.ts';
import { inTransaction } from '../services/kernel/transaction.ts';
import { isNotFound, subjectOf, type EventsStream } from '../runtime/events-stream.ts';
import { contextOf, endSpans } from '../runtime/tracing.ts';
import {
  followVersions,
  loadProjectionCheckpoint,
  PROJECTION_APPLIED_CHANNEL,
  type Projection,
} from '../services/read-models/projections.ts';

/**
 * How long each pull request of the consumer lasts; the server sends an idle heartbeat every half of
 * it, and two missed heartbeats make the client pull afresh. That is what revives the consumer after
 * NATS restarts: the ordered consumer of @nats-io/jetstream 3.4 recreates itself on reconnect but
 * still counts the pulls that died with the server as pending, so it asks for nothing more until the
 * heartbeats are missed — 30 s and more with the default 30 s pulls, a few seconds with these
 * (projector/projector-restart.int.test.ts; found by the chaos tier).
 */
export const PULL_EXPIRES_MS = 5_000;

/** Attempts at applying one event before it is parked, and the pause between them. */
export const MAX_ATTEMPTS = 3;
export const RETRY_DELAY_MS = 200;

export interface ProjectBatchResult {
  applied: number;
  unchanged: number;
  parked: number;
  lastSequence: number | null;
}

export interface ProjectLoopResult extends ProjectBatchResult {
  batches: number;
}

export interface ProjectLoopInput {
  projection: string;
  batchSize: number;
  /** How long the loop runs before it returns to its workflow (which records progress and starts the next). */
  loopMs: number;
  /** Stop after this many batches (tests, and the one-batch `projectBatch` of older histories). */
  maxBatches?: number;
}

export function createProjectorActivities(deps: {
  pool: DatabasePool;
  js: JetStreamClient;
  stream: EventsStream;
  projections: Record<string, Projection<unknown>>;
  onParked?: (projection: string) => void;
  tracer?: Tracer;
}) {
  const tracer = deps.tracer ?? trace.getTracer('projector');
  const projectLoop = async (input: ProjectLoopInput): Promise<ProjectLoopResult> => {
    const projection = deps.projections[input.projection];
    if (!projection) throw new Error(`unknown projection ${input.projection}`);
    const info = activityInfo();
    const lease = await takeLease(
      deps.pool,
      `projection/${input.projection}`,
      leaseHolder(`${info.workflowExecution?.runId ?? info.activityId}#${info.attempt}`),
    );
    const totals: ProjectLoopResult = { applied: 0, unchanged: 0, parked: 0, lastSequence: null, batches: 0 };
    const consumer = await deps.js.consumers.get(deps.stream.name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: (await loadProjectionCheckpoint(deps.pool, input.projection)) + 1,
    });
    const arrivals = buffer(
      await consumer.consume({ max_messages: input.batchSize, expires: PULL_EXPIRES_MS }),
      input.batchSize * 2,
    );
    const stopAt = Date.now() + input.loopMs;
    const signal = cancellationSignal();
    try {
      while (!signal.aborted && Date.now() < stopAt && totals.batches < (input.maxBatches ?? Infinity)) {
        const batch = await arrivals.take(input.batchSize, Math.min(1_000, Math.max(0, stopAt - Date.now())));
        if (batch.length === 0) {
          heartbeat(totals);
          continue;
        }
        const spans = batchSpans(tracer, input.projection, batch);
        await context
          .with(spans.active, () =>
            inTransaction(deps.pool, async (tx) => {
              await holdLease(tx, lease);
              const checkpoint = await loadProjectionCheckpoint(tx, input.projection);
              const checked: { message: JsMsg; row: unknown }[] = [];
              for (const message of batch) {
                if (message.seq <= checkpoint) continue; // applied by an earlier loop: never twice
                let row: unknown;
                try {
                  const event = fromEnvelope(eventEnvelope.parse(message.json()));
                  const subject = subjectOf(deps.stream, event);
                  if (message.subject !== subject)
                    throw new Error(`arrived on ${message.subject}, but its body belongs on ${subject}`);
                  row = projection.rowOf(event);
                } catch (error) {
                  await park(tx, input.projection, message, error, 1); // a contract breach does not heal by retrying
                  totals.parked++;
                  deps.onParked?.(input.projection);
                  continue;
                }
                if (row === null) totals.unchanged++;
                else checked.push({ message, row });
              }
              const { next, duplicates, jumps } = await followVersions(tx, projection, checked);
              totals.unchanged += duplicates;
              for (const { item, error } of jumps) {
                await park(tx, input.projection, item.message, error, 1);
                totals.parked++;
                deps.onParked?.(input.projection);
              }
              await applyChecked(tx, input.projection, projection, next, totals, deps.onParked);
              const last = batch[batch.length - 1]!;
              // Delivered at commit: readers waiting for a version (GET …?minVersion) look again.
              await tx.query(sql.unsafe`select pg_notify(${PROJECTION_APPLIED_CHANNEL}, ${input.projection})`);
              await tx.query(sql.unsafe`
            insert into projection_checkpoints (projection, stream_sequence) values (${input.projection}, ${last.seq})
            on conflict (projection) do update set stream_sequence = excluded.stream_sequence, updated_at = now()
            where projection_checkpoints.stream_sequence < excluded.stream_sequence`);
            }),
          )
          .then(spans.committed, spans.failed);
        totals.lastSequence = batch[batch.length - 1]!.seq;
        totals.batches++;
        heartbeat(totals);
      }
    } finally {
      await arrivals.close();
    }
    return totals;
  };

  return {
    projectLoop,
    /** The one-batch activity of histories recorded before the loop (`patched('pipeline-loop')`). */
    async projectBatch(input: {
      projection: string;
      batchSize: number;
      maxWaitMs: number;
    }): Promise<ProjectBatchResult> {
      const { applied, unchanged, parked, lastSequence } = await projectLoop({
        projection: input.projection,
        batchSize: input.batchSize,
        loopMs: input.maxWaitMs,
        maxBatches: 1,
      });
      return { applied, unchanged, parked, lastSequence };
    },
  };
}

/**
 * The spans of one batch, when its messages carry trace context (the relay's `traceparent` header):
 * `projector batch <projection>`, linked to each message's publish span, with the batch's queries
 * beneath it; and per traced message a `projector apply <event type>` span, child of its publish
 * span (so the request's trace reaches the read model) and linked to the batch. All end at commit.
 */
function batchSpans(tracer: Tracer, projection: string, batch: JsMsg[]) {
  const traced = batch
    .map((message) => ({ message, parent: contextOf({ traceparent: message.headers?.get('traceparent') }) }))
    .filter(({ parent }) => trace.getSpanContext(parent) !== undefined);
  if (traced.length === 0) return { active: context.active(), committed: () => undefined, failed: rethrow };
  const batchSpan = tracer.startSpan(`projector batch ${projection}`, {
    kind: SpanKind.CONSUMER,
    links: traced.map(({ parent }) => ({ context: trace.getSpanContext(parent)! })),
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.batch.message_count': batch.length,
      projection,
    },
  });
  const eventSpans = traced.map(({ message, parent }) =>
    tracer.startSpan(
      // The subject ends in the event type (runtime/events-stream.ts subjectOf); the body is checked later.
      `projector apply ${message.subject.split('.').pop()}`,
      {
        kind: SpanKind.CONSUMER,
        links: [{ context: batchSpan.spanContext() }],
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': message.subject,
          'messaging.nats.stream.sequence': message.seq,
          'messaging.message.id': message.headers?.get('Nats-Msg-Id') ?? '',
          projection,
        },
      },
      parent,
    ),
  );
  return {
    active: trace.setSpan(context.active(), batchSpan),
    committed: () => endSpans([batchSpan, ...eventSpans]),
    failed: (error: unknown) => {
      endSpans([batchSpan, ...eventSpans], error);
      throw error;
    },
  };
}

const rethrow = (error: unknown) => {
  throw error;
};

/** Applies the checked events of a batch in one statement, or one by one (retried, then parked) if it fails. */
async function applyChecked(
  tx: DatabaseTransactionConnection,
  name: string,
  projection: Projection<unknown>,
  checked: { message: JsMsg; row: unknown }[],
  totals: ProjectBatchResult,
  onParked?: (projection: string) => void,
): Promise<void> {
  if (checked.length === 0) return;
  try {
    const applied = await tx.transaction((savepoint) =>
      projection.apply(
        savepoint,
        checked.map((c) => c.row),
      ),
    );
    totals.applied += applied;
    totals.unchanged += checked.length - applied;
    return;
  } catch {
    // Some event of the batch makes the statement fail: find it, one event per savepoint.
  }
  for (const { message, row } of checked) {
    let failure: unknown;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const applied = await tx.transaction((savepoint) => projection.apply(savepoint, [row]));
        if (applied > 0) totals.applied++;
        else totals.unchanged++;
        failure = undefined;
        break;
      } catch (error) {
        failure = error;
        if (attempt < MAX_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
    if (failure === undefined) continue;
    await park(tx, name, message, failure, MAX_ATTEMPTS);
    totals.parked++;
    onParked?.(name);
  }
}

/**
 * Messages of a running consume(), pumped into a bounded queue: `take` returns what has arrived, up
 * to a batch, waiting only for the first (a consumer never waits for a full batch, which would hold
 * a lone event back). The pump stops pulling while the queue is full.
 */
function buffer(messages: AsyncIterable<JsMsg> & { close(): Promise<void | Error> }, capacity: number) {
  const queue: JsMsg[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let space: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const message of messages) {
        queue.push(message);
        wake?.();
        while (queue.length >= capacity) await new Promise<void>((resolve) => (space = resolve));
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    failure ??= new Error('the JetStream consumer stopped');
    wake?.();
  })();
  return {
    async take(max: number, waitMs: number): Promise<JsMsg[]> {
      if (queue.length === 0 && failure === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      if (queue.length === 0 && failure !== undefined) throw failure;
      const batch = queue.splice(0, max);
      space?.();
      space = undefined;
      return batch;
    },
    async close(): Promise<void> {
      await messages.close();
      space?.();
      await pump;
    },
  };
}

/** Removes the durable consumers that projections used before they consumed from their checkpoint. */
export async function removeLegacyConsumers(jsm: JetStreamManager, stream: EventsStream, projections: string[]) {
  for (const projection of projections) {
    await jsm.consumers.delete(stream.name, `projection-${projection}`).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

async function park(
  tx: CommonQueryMethods,
  projection: string,
  message: JsMsg,
  error: unknown,
  attempts: number,
): Promise<void> {
  let event: unknown;
  try {
    event = message.json();
  } catch {
    event = { unparsable: message.string() };
  }
  const eventId =
    message.headers?.get('Nats-Msg-Id') || (event as { id?: string }).id || '00000000-0000-0000-0000-000000000000';
  await tx.query(sql.unsafe`
    insert into projection_dead_letters (projection, event_id, stream_sequence, subject, event, error, attempts)
    values (${projection}, ${eventId}, ${message.seq}, ${message.subject}, ${sql.jsonb(event as never)},
            ${error instanceof Error ? error.message : String(error)}, ${attempts})
    on conflict (projection, event_id) do nothing`);
}

export type ProjectorActivities = ReturnType<typeof createProjectorActivities>;

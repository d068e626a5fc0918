// The JetStream stream every event is published to, and its durable consumers: the relay publishes
// into it, the projector consumes it, the BFF and the CLI measure lag on it (docs/architecture.md,
// "Event pipeline"). Created or updated idempotently by whichever deployable starts first.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { z } from 'zod';
import type { OutboxEvent } from '../services/kernel/outbox.ts';

/** Stream settings from env, shared by the relay, the projector and the BFF (lag metrics). */
export const eventsStreamEnv = z.object({
  EVENTS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or -')
    .default('EVENTS'),
  EVENTS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or -')
    .default('events'),
});

export interface EventsStream {
  /** Stream name; `EVENTS` by default. */
  name: string;
  /** Subjects are `<prefix>.<tenant>.<aggregate_type>.<event_type>`; `events` by default. */
  subjectPrefix: string;
}

/**
 * Broker-side dedup: a message whose Nats-Msg-Id (= event id) was seen in this window is acked as a
 * duplicate and not stored again. The relay republishes only events after its checkpoint, i.e. at
 * most the batch it was publishing when it failed, normally within seconds; 10 minutes covers a
 * worker restart. Older duplicates are still harmless: projections ignore versions they have.
 */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

export function subjectOf(
  stream: EventsStream,
  event: Pick<OutboxEvent, 'tenantId' | 'aggregateType' | 'eventType'>,
): string {
  return `${stream.subjectPrefix}.${event.tenantId}.${event.aggregateType}.${event.eventType}`;
}

/** The relay's checkpoint row in `outbox_checkpoints`: how far the outbox has been published. */
export const RELAY_READER = 'relay';

/** The durable JetStream consumer of a projection. */
export function consumerName(projection: string): string {
  return `projection-${projection}`;
}

/** Whether a JetStream API call failed because the stream (or consumer) does not exist. */
export function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

/** Creates the stream (file storage, limits retention) or brings an existing one to this config. */
export async function ensureEventsStream(jsm: JetStreamManager, stream: EventsStream): Promise<void> {
  const config = {
    name: stream.name,
    subjects: [`${stream.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000, // nanoseconds
  };
  try {
    await jsm.streams.info(stream.name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
    return;
  }
  await jsm.streams.update(stream.name, config);
}

/** A projection's durable pull consumer: explicit acks, at most one batch outstanding. */
export async function ensureProjectionConsumer(
  jsm: JetStreamManager,
  stream: EventsStream,
  projection: string,
  batchSize: number,
): Promise<void> {
  const config = {
    durable_name: consumerName(projection),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${stream.subjectPrefix}.>`,
    ack_wait: 30_000_000_000, // 30 s in ns; the projector acks right after its commit
    max_ack_pending: batchSize,
  };
  try {
    await jsm.consumers.info(stream.name, config.durable_name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream.name, config);
    return;
  }
  await jsm.consumers.update(stream.name, config.durable_name, {
    ack_wait: config.ack_wait,
    max_ack_pending: batchSize,
  });
}

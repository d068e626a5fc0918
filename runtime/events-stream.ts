// The JetStream stream every event is published to: the relay publishes into it, the projector
// consumes it (an ordered consumer per projection, from its checkpoint), the BFF and the CLI
// measure lag on it (docs/architecture.md, "Event pipeline"). Created or updated idempotently by
// whichever deployable starts first.
import {
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

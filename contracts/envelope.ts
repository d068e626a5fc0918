// The wire envelope of every event: a CloudEvent 1.0 in the structured content mode of the
// CloudEvents NATS protocol binding (the JSON event format as the message body, content type
// application/cloudevents+json). It is a contract of its own, decoupled from the outbox table: the
// relay maps outbox rows to it (storage details such as the outbox position stay behind), and the
// projector reads only it. Spec: https://github.com/cloudevents/spec (spec.md, formats/json-format.md,
// bindings/nats-protocol-binding.md).
import { z } from 'zod';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** CloudEvents extension attribute names: lowercase letters and digits only (spec §3.1.1). */
const extensions = {
  /** The tenant the event belongs to. */
  tenantid: z.string().min(1),
  aggregatetype: z.string().min(1),
  /** The aggregate version this event created: 1, 2, 3, … per aggregate, without gaps. */
  aggregateversion: z.number().int().min(1),
  /** The version of the event's payload contract (contracts/<aggregate>.events.ts). */
  schemaversion: z.number().int().min(1),
  correlationid: z.string().optional(),
  causationid: z.string().optional(),
  /** W3C trace context of the write (the CloudEvents Distributed Tracing extension). */
  traceparent: z.string().optional(),
};

export const eventEnvelope = z.object({
  specversion: z.literal('1.0'),
  /** The event id: unique, and the Nats-Msg-Id the broker deduplicates on. */
  id: z.uuid(),
  /** `/tenants/<tenantId>/<aggregateType>` */
  source: z.string().min(1),
  /** The event type of the contract, e.g. CounterIncremented. */
  type: z.string().min(1),
  /** The aggregate id, e.g. the counter id. */
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  /** The payload, as its contract (by type and schemaversion) describes it. */
  data: z.record(z.string(), z.unknown()),
  ...extensions,
});
export type EventEnvelope = z.infer<typeof eventEnvelope>;

/** An event as a producer holds it (an outbox row without its storage details), and as a consumer gets it back. */
export interface EventRecord {
  eventId: string;
  tenantId: string;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  eventType: string;
  schemaVersion: number;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** ms since the epoch */
  occurredAt: number;
}

const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);

export function toEnvelope(event: EventRecord): EventEnvelope {
  const correlationid = text(event.metadata.correlationId);
  const causationid = text(event.metadata.causationId);
  const traceparent = text(event.metadata.traceparent);
  return {
    specversion: '1.0',
    id: event.eventId,
    source: `/tenants/${event.tenantId}/${event.aggregateType}`,
    type: event.eventType,
    subject: event.aggregateId,
    time: new Date(event.occurredAt).toISOString(),
    datacontenttype: 'application/json',
    data: event.payload,
    tenantid: event.tenantId,
    aggregatetype: event.aggregateType,
    aggregateversion: event.aggregateVersion,
    schemaversion: event.schemaVersion,
    ...(correlationid ? { correlationid } : {}),
    ...(causationid ? { causationid } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}

export function fromEnvelope(envelope: EventEnvelope): EventRecord {
  return {
    eventId: envelope.id,
    tenantId: envelope.tenantid,
    aggregateType: envelope.aggregatetype,
    aggregateId: envelope.subject,
    aggregateVersion: envelope.aggregateversion,
    eventType: envelope.type,
    schemaVersion: envelope.schemaversion,
    payload: envelope.data,
    metadata: {
      ...(envelope.correlationid ? { correlationId: envelope.correlationid } : {}),
      ...(envelope.causationid ? { causationId: envelope.causationid } : {}),
      ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
    },
    occurredAt: Date.parse(envelope.time),
  };
}

// The AsyncAPI 3 document of the events on the wire, generated from the same event contracts as the
// JSON Schemas (contracts/events.ts): one channel per event type on the JetStream subject
// `<prefix>.<tenantId>.<aggregateType>.<eventType>` (runtime/events-stream.ts), one message per
// contract version. The message is a CloudEvent in structured mode (contracts/envelope.ts), with the
// event id as `Nats-Msg-Id` (the broker's dedup key). Committed as contracts/generated/asyncapi.json
// (the drift gate) and served by the BFF at /asyncapi.json.
import { z } from 'zod';
import { CLOUDEVENTS_CONTENT_TYPE, eventEnvelope } from './envelope.ts';
import type { EventContract } from './events.ts';

/** The subject prefix of a default deployment (EVENTS_SUBJECT_PREFIX). */
const SUBJECT_PREFIX = 'events';

const schemaOf = (schema: z.ZodType) => {
  const generated = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' }) as Record<string, unknown>;
  delete generated.$schema; // embedded: AsyncAPI's default schema format is JSON Schema draft 7 compatible
  return generated;
};

/** The published message: a CloudEvent (contracts/envelope.ts) whose `data` the event's contract describes. */
function envelope(contract: EventContract): Record<string, unknown> {
  return schemaOf(
    eventEnvelope.extend({
      type: z.literal(contract.eventType),
      aggregatetype: z.literal(contract.aggregateType),
      schemaversion: z.literal(contract.schemaVersion),
      data: contract.payload,
    }),
  );
}

export function renderAsyncApi(contracts: readonly EventContract[]): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const types = [...new Set(contracts.map((c) => `${c.aggregateType}.${c.eventType}`))].sort();
  for (const type of types) {
    const [aggregateType, eventType] = type.split('.') as [string, string];
    const versions = contracts.filter((c) => c.aggregateType === aggregateType && c.eventType === eventType);
    const refs: Record<string, { $ref: string }> = {};
    for (const contract of versions) {
      const name = `${eventType}.v${contract.schemaVersion}`;
      messages[name] = {
        name: eventType,
        title: `${eventType} (schema version ${contract.schemaVersion})`,
        ...(contract.payload.description ? { summary: contract.payload.description } : {}),
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        headers: {
          type: 'object',
          required: ['Nats-Msg-Id', 'Content-Type'],
          properties: {
            'Nats-Msg-Id': { type: 'string', format: 'uuid', description: 'The event id (the CloudEvent id)' },
            'Content-Type': { const: CLOUDEVENTS_CONTENT_TYPE },
          },
        },
        payload: envelope(contract),
      };
      refs[name] = { $ref: `#/components/messages/${name}` };
    }
    channels[eventType] = {
      address: `${SUBJECT_PREFIX}.{tenantId}.${aggregateType}.${eventType}`,
      title: `${aggregateType} ${eventType}`,
      parameters: { tenantId: { description: 'The tenant the event belongs to' } },
      messages: refs,
    };
    operations[`publish${eventType}`] = {
      action: 'send',
      summary: `The outbox relay publishes ${eventType} in outbox order, once (deduplicated by Nats-Msg-Id)`,
      channel: { $ref: `#/channels/${eventType}` },
      messages: Object.keys(refs).map((name) => ({ $ref: `#/channels/${eventType}/messages/${name}` })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Durable-workflow backend events',
      version: '0.1.0',
      description:
        'Every domain event, as the outbox relay publishes it to the JetStream stream EVENTS (subjects under the prefix EVENTS_SUBJECT_PREFIX, `events` by default). Generated from contracts/events.ts.',
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    channels,
    operations,
    components: { messages },
  };
}

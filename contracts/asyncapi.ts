// The AsyncAPI 3 document of the events on the wire, generated from the same event contracts as the
// JSON Schemas (contracts/events.ts): one channel per event type on the JetStream subject
// `<prefix>.<tenantId>.<aggregateType>.<eventType>` (runtime/events-stream.ts), one message per
// contract version. The message is what the relay publishes today: the outbox row as JSON, with the
// event id as `Nats-Msg-Id` (the broker's dedup key). Committed as contracts/generated/asyncapi.json
// (the drift gate) and served by the BFF at /asyncapi.json.
import { z } from 'zod';
import type { EventContract } from './events.ts';

/** The subject prefix of a default deployment (EVENTS_SUBJECT_PREFIX). */
const SUBJECT_PREFIX = 'events';

const schemaOf = (schema: z.ZodType) => {
  const generated = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' }) as Record<string, unknown>;
  delete generated.$schema; // embedded: AsyncAPI's default schema format is JSON Schema draft 7 compatible
  return generated;
};

/** The published message: the outbox row, its `payload` described by the event's contract. */
function envelope(contract: EventContract): Record<string, unknown> {
  const decimal = { type: 'string', pattern: '^[0-9]+$' };
  return {
    type: 'object',
    required: [
      'eventId',
      'position',
      'txId',
      'tenantId',
      'aggregateType',
      'aggregateId',
      'aggregateVersion',
      'eventType',
      'schemaVersion',
      'payload',
      'metadata',
      'occurredAt',
    ],
    properties: {
      eventId: { type: 'string', format: 'uuid', description: 'Unique per event; also the Nats-Msg-Id header' },
      position: { ...decimal, description: 'Position in the outbox (storage detail)' },
      txId: { ...decimal, description: 'The writing transaction (storage detail)' },
      tenantId: { type: 'string' },
      aggregateType: { const: contract.aggregateType },
      aggregateId: { type: 'string' },
      aggregateVersion: { type: 'integer', minimum: 1, description: 'Per aggregate: 1, 2, 3, … without gaps' },
      eventType: { const: contract.eventType },
      schemaVersion: { const: contract.schemaVersion },
      payload: schemaOf(contract.payload),
      metadata: {
        type: 'object',
        description: 'correlationId, causationId, actor, idempotencyKey, workflowId, workflowRunId when known',
        additionalProperties: { type: 'string' },
      },
      occurredAt: { type: 'number', description: 'When the event was written, in ms since the epoch' },
    },
  };
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
        contentType: 'application/json',
        headers: {
          type: 'object',
          required: ['Nats-Msg-Id'],
          properties: { 'Nats-Msg-Id': { type: 'string', format: 'uuid', description: 'The event id' } },
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
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}

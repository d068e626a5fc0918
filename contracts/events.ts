// Every event contract, by aggregate: the registry the JSON Schemas are generated from and the outbox
// writer checks each appended event against (services/kernel/outbox.ts).
import type { z } from 'zod';
import { COUNTER_AGGREGATE, counterEvents } from './counter.events.ts';
import { TENANT_AGGREGATE } from './tenant.contracts.ts';
import { tenantEvents } from './tenant.events.ts';

export interface EventContract {
  aggregateType: string;
  eventType: string;
  schemaVersion: number;
  payload: z.ZodType;
}

const byAggregate = { [COUNTER_AGGREGATE]: counterEvents, [TENANT_AGGREGATE]: tenantEvents } as const;

/** Every event type of every aggregate: what a service may append. */
export type EventType = keyof typeof counterEvents | keyof typeof tenantEvents;

export const EVENT_CONTRACTS: EventContract[] = Object.entries(byAggregate).flatMap(([aggregateType, events]) =>
  Object.entries(events).map(([eventType, contract]) => ({
    aggregateType,
    eventType,
    schemaVersion: contract.schemaVersion,
    payload: contract.payload as z.ZodType,
  })),
);

const index = new Map(EVENT_CONTRACTS.map((c) => [`${c.aggregateType}/${c.eventType}/v${c.schemaVersion}`, c]));

/** The contract of an event as stored, or undefined when no contract describes it. */
export function eventContract(aggregateType: string, eventType: string, schemaVersion: number) {
  return index.get(`${aggregateType}/${eventType}/v${schemaVersion}`);
}

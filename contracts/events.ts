// Every event contract, by aggregate: the registry the JSON Schemas are generated from.
import type { z } from 'zod';
import { COUNTER_AGGREGATE, counterEvents } from './counter.events.ts';

export interface EventContract {
  aggregateType: string;
  eventType: string;
  schemaVersion: number;
  payload: z.ZodType;
}

export const EVENT_CONTRACTS: EventContract[] = Object.entries(counterEvents).map(([eventType, contract]) => ({
  aggregateType: COUNTER_AGGREGATE,
  eventType,
  schemaVersion: contract.schemaVersion,
  payload: contract.payload,
}));

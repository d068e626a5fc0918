// Events of the counter aggregate, as written to the outbox and published on NATS.
import { z } from 'zod';

const counterChange = z
  .object({
    by: z.number().int().min(0).describe('Amount of the change; for a reset, the value it cleared'),
    value: z.number().int().min(0).describe('The value after the change'),
    version: z.number().int().min(1).describe('The aggregate version this event created'),
  })
  .strict();

export const COUNTER_AGGREGATE = 'counter';

export const counterEvents = {
  CounterIncremented: { schemaVersion: 1, payload: counterChange },
  CounterDecremented: { schemaVersion: 1, payload: counterChange },
  CounterReset: { schemaVersion: 1, payload: counterChange },
} as const;

export type CounterEventType = keyof typeof counterEvents;
export type CounterEventPayload = z.infer<typeof counterChange>;
export interface CounterEvent {
  type: CounterEventType;
  payload: CounterEventPayload;
}

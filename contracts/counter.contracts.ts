// HTTP DTOs of the counter reference slice.
import { z } from 'zod';
import { resourceId } from './ids.ts';

export const counterPath = z.object({ tenantId: resourceId, counterId: resourceId });

export const counterReadQuery = z
  .object({
    // An empty `?minVersion=` is not a version: coercion would read it as 0, so it becomes NaN and is refused.
    minVersion: z
      .preprocess(
        (value) => (value === '' ? Number.NaN : value),
        z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      )
      .optional()
      .describe('Read-your-writes: wait briefly until the read model reflects at least this version'),
  })
  .strict();

export const counterChangeBody = z
  .object({ by: z.number().int().min(1).max(1_000_000).describe('How much to add or subtract (1 to 1,000,000)') })
  .strict();

export const counterResetBody = z.object({}).strict();

export const counterView = z.object({
  tenantId: resourceId,
  counterId: resourceId,
  value: z.number().int().min(0),
  version: z
    .number()
    .int()
    .min(0)
    .describe('CAS version; 0 for a counter never written. Send as If-Match: "<version>"'),
});
export type CounterView = z.infer<typeof counterView>;

export const counterChangeResponse = counterView.extend({
  eventId: z.uuid().describe('The outbox event this change wrote'),
});
export type CounterChangeResponse = z.infer<typeof counterChangeResponse>;

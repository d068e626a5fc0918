// The `counters` projection: counter summary per tenant/counter, and activity totals per tenant.
// Both tables move together, guarded by the counter's version: an event at or below the version a
// summary row already reflects changes nothing (exactly-once effect under redelivery and replay).
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { CounterView } from '../../contracts/counter.contracts.ts';
import { counterEvents, COUNTER_AGGREGATE, type CounterEventType } from '../../contracts/counter.events.ts';
import type { OutboxEvent } from '../kernel/outbox.ts';
import type { ApplyOutcome } from './projections.ts';

/** Table names, so a rebuild can fill fresh copies with the same code. */
export interface CounterTables {
  summary: string;
  activity: string;
}

export const LIVE_COUNTER_TABLES: CounterTables = { summary: 'rm_counter_summary', activity: 'rm_tenant_activity' };

const COLUMN_BY_TYPE: Record<CounterEventType, 'increments' | 'decrements' | 'resets'> = {
  CounterIncremented: 'increments',
  CounterDecremented: 'decrements',
  CounterReset: 'resets',
};

/** Applies one event; throws on an event that breaks its contract (a poison event). */
export async function applyCounterEvent(
  db: CommonQueryMethods,
  event: OutboxEvent,
  tables: CounterTables = LIVE_COUNTER_TABLES,
): Promise<ApplyOutcome> {
  if (event.aggregateType !== COUNTER_AGGREGATE) return 'ignored';
  const type = event.eventType as CounterEventType;
  const contract = counterEvents[type];
  if (!contract) throw new Error(`unknown counter event type ${event.eventType}`);
  if (event.schemaVersion !== contract.schemaVersion) {
    throw new Error(
      `${event.eventType} schema version ${event.schemaVersion} is not supported (expected ${contract.schemaVersion})`,
    );
  }
  const payload = contract.payload.parse(event.payload);
  if (payload.version !== event.aggregateVersion) {
    throw new Error(
      `${event.eventType} payload version ${payload.version} differs from aggregate version ${event.aggregateVersion}`,
    );
  }
  const occurredAt = new Date(event.occurredAt).toISOString();
  const summary = sql.identifier([tables.summary]);
  const written = await db.maybeOne(sql.unsafe`
    insert into ${summary} (tenant_id, counter_id, value, version, updated_at)
    values (${event.tenantId}, ${event.aggregateId}, ${payload.value}, ${payload.version}, ${occurredAt}::timestamptz)
    on conflict (tenant_id, counter_id) do update
      set value = excluded.value, version = excluded.version, updated_at = excluded.updated_at
      where ${summary}.version < excluded.version
    returning (xmax = 0) as created`);
  if (!written) return 'unchanged';
  const column = sql.identifier([COLUMN_BY_TYPE[type]]);
  const activity = sql.identifier([tables.activity]);
  const newCounter = (written as { created: boolean }).created ? 1 : 0;
  await db.query(sql.unsafe`
    insert into ${activity} (tenant_id, counters, ${column}, events, last_event_at)
    values (${event.tenantId}, ${newCounter}, 1, 1, ${occurredAt}::timestamptz)
    on conflict (tenant_id) do update
      set counters = ${activity}.counters + ${newCounter},
          ${column} = ${activity}.${column} + 1,
          events = ${activity}.events + 1,
          last_event_at = greatest(${activity}.last_event_at, excluded.last_event_at)`);
  return 'applied';
}

const summaryRow = z.object({ value: z.coerce.number().int(), version: z.coerce.number().int() });

/** A counter as the read model has it: value 0 at version 0 when no event of it was projected yet. */
export async function readCounterSummary(
  db: CommonQueryMethods,
  key: { tenantId: string; counterId: string },
): Promise<CounterView> {
  const row = await db.maybeOne(sql.type(summaryRow)`
    select value, version from rm_counter_summary where tenant_id = ${key.tenantId} and counter_id = ${key.counterId}`);
  return { tenantId: key.tenantId, counterId: key.counterId, value: row?.value ?? 0, version: row?.version ?? 0 };
}

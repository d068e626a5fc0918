// The `counters` projection: counter summary per tenant/counter, and activity totals per tenant.
// A batch is applied in one statement for both tables, guarded by each counter's version: an event
// at or below the version a summary row already reflects changes nothing, and an event that arrives
// twice in one batch counts once (exactly-once effect under redelivery, replay and duplicates).
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { CounterView } from '../../contracts/counter.contracts.ts';
import { counterEvents, COUNTER_AGGREGATE, type CounterEventType } from '../../contracts/counter.events.ts';
import { upcast } from '../../contracts/upcasters.ts';
import type { EventRecord } from '../../contracts/envelope.ts';
import type { Projection } from './projections.ts';

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

/** What one counter event contributes to the batch statement. */
export type CounterRow = {
  tenant_id: string;
  counter_id: string;
  value: number;
  version: number;
  kind: (typeof COLUMN_BY_TYPE)[CounterEventType];
  at: string;
};

/** Checks a counter event against its contract (throws for a poison event); null for other aggregates. */
export function counterRow(event: EventRecord): CounterRow | null {
  if (event.aggregateType !== COUNTER_AGGREGATE) return null;
  const type = event.eventType as CounterEventType;
  const contract = counterEvents[type];
  if (!contract) throw new Error(`unknown counter event type ${event.eventType}`);
  // An older schemaVersion is read through its upcasters; a newer one, unknown here, throws.
  const payload = contract.payload.parse(
    upcast(COUNTER_AGGREGATE, event.eventType, event.schemaVersion, event.payload).payload,
  );
  if (payload.version !== event.aggregateVersion) {
    throw new Error(
      `${event.eventType} payload version ${payload.version} differs from aggregate version ${event.aggregateVersion}`,
    );
  }
  return {
    tenant_id: event.tenantId,
    counter_id: event.aggregateId,
    value: payload.value,
    version: payload.version,
    kind: COLUMN_BY_TYPE[type],
    at: new Date(event.occurredAt).toISOString(),
  };
}

const appliedRow = z.object({ applied: z.coerce.number() });

/**
 * Applies checked rows in one statement: the rows newer than their counter's summary (each version
 * once) move the summary to the newest and add to the tenant's totals. Returns how many applied.
 */
export async function applyCounterRows(
  db: CommonQueryMethods,
  rows: CounterRow[],
  tables: CounterTables = LIVE_COUNTER_TABLES,
): Promise<number> {
  if (rows.length === 0) return 0;
  const summary = sql.identifier([tables.summary]);
  const activity = sql.identifier([tables.activity]);
  return db.oneFirst(sql.type(appliedRow)`
    with batch as (
      select * from jsonb_to_recordset(${sql.jsonb(rows)})
        as b(tenant_id text, counter_id text, value bigint, version bigint, kind text, at timestamptz)
    ), fresh as (
      select distinct on (b.tenant_id, b.counter_id, b.version) b.*
      from batch b left join ${summary} s on s.tenant_id = b.tenant_id and s.counter_id = b.counter_id
      where s.version is null or b.version > s.version
      order by b.tenant_id, b.counter_id, b.version
    ), latest as (
      select distinct on (tenant_id, counter_id) * from fresh order by tenant_id, counter_id, version desc
    ), written as (
      insert into ${summary} (tenant_id, counter_id, value, version, updated_at)
      select tenant_id, counter_id, value, version, at from latest
      on conflict (tenant_id, counter_id) do update
        set value = excluded.value, version = excluded.version, updated_at = excluded.updated_at
        where ${summary}.version < excluded.version
      returning tenant_id, (xmax = 0) as created
    ), totals as (
      select tenant_id, count(*) as events, max(at) as last_at,
             count(*) filter (where kind = 'increments') as increments,
             count(*) filter (where kind = 'decrements') as decrements,
             count(*) filter (where kind = 'resets') as resets
      from fresh group by tenant_id
    ), created as (
      select tenant_id, count(*) filter (where created) as counters from written group by tenant_id
    ), counted as (
      insert into ${activity} (tenant_id, counters, increments, decrements, resets, events, last_event_at)
      select t.tenant_id, coalesce(c.counters, 0), t.increments, t.decrements, t.resets, t.events, t.last_at
      from totals t left join created c using (tenant_id)
      on conflict (tenant_id) do update
        set counters = ${activity}.counters + excluded.counters,
            increments = ${activity}.increments + excluded.increments,
            decrements = ${activity}.decrements + excluded.decrements,
            resets = ${activity}.resets + excluded.resets,
            events = ${activity}.events + excluded.events,
            last_event_at = greatest(${activity}.last_event_at, excluded.last_event_at)
    )
    select count(*) as applied from fresh`);
}

/** The counters projection over `tables` (the live ones, or a rebuild's fresh copies). */
export function counterProjection(tables: CounterTables = LIVE_COUNTER_TABLES): Projection<CounterRow> {
  return {
    rowOf: counterRow,
    apply: (db, rows) => applyCounterRows(db, rows, tables),
    versionOf: (row) => ({ aggregate: JSON.stringify([row.tenant_id, row.counter_id]), version: row.version }),
    async currentVersions(db, aggregates) {
      const keys = aggregates.map((key) => JSON.parse(key) as [string, string]);
      const rows = await db.any(sql.type(versionRow)`
        select s.tenant_id as "tenantId", s.counter_id as "counterId", s.version
        from ${sql.identifier([tables.summary])} s
        join jsonb_to_recordset(${sql.jsonb(keys.map(([tenantId, counterId]) => ({ tenantId, counterId })))})
          as k("tenantId" text, "counterId" text) on s.tenant_id = k."tenantId" and s.counter_id = k."counterId"`);
      return new Map(rows.map((r) => [JSON.stringify([r.tenantId, r.counterId]), r.version]));
    },
  };
}

const versionRow = z.object({ tenantId: z.string(), counterId: z.string(), version: z.coerce.number().int() });

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

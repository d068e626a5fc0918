// The `tenants` projection: one row per tenant with its status, plan and member count, guarded by
// the tenant's aggregate version like every read model here. A batch is applied in one statement.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { TENANT_AGGREGATE, tenantView } from '../../contracts/tenant.contracts.ts';
import { tenantEvents, type TenantEventType } from '../../contracts/tenant.events.ts';
import { upcast } from '../../contracts/upcasters.ts';
import type { EventRecord } from '../../contracts/envelope.ts';
import type { Projection } from './projections.ts';

/** What one tenant event contributes: identity (reservation), a status, a member delta, or only its version. */
export type TenantRow = {
  tenant_id: string;
  version: number;
  at: string;
  slug: string | null;
  name: string | null;
  plan: string | null;
  status: string | null;
  members: number;
};

/** Checks a tenant event against its contract (throws for a poison event); null for other aggregates. */
export function tenantRow(event: EventRecord): TenantRow | null {
  if (event.aggregateType !== TENANT_AGGREGATE) return null;
  const type = event.eventType as TenantEventType;
  const contract = Object.hasOwn(tenantEvents, type) ? tenantEvents[type] : undefined;
  if (!contract) throw new Error(`unknown tenant event type ${event.eventType}`);
  // An older schemaVersion is read through its upcasters; a newer one, unknown here, throws.
  const body = upcast(TENANT_AGGREGATE, event.eventType, event.schemaVersion, event.payload).payload;
  const payload: { version: number; to?: string } = contract.payload.parse(body);
  if (payload.version !== event.aggregateVersion)
    throw new Error(
      `${event.eventType} payload version ${payload.version} differs from aggregate version ${event.aggregateVersion}`,
    );
  const row: TenantRow = {
    tenant_id: event.tenantId,
    version: event.aggregateVersion,
    at: new Date(event.occurredAt).toISOString(),
    slug: null,
    name: null,
    plan: null,
    status: null,
    members: 0,
  };
  if (type === 'TenantReserved') {
    const { slug, name, plan } = tenantEvents.TenantReserved.payload.parse(body);
    return { ...row, slug, name, plan };
  }
  if (type === 'TenantMemberAdded') return { ...row, members: 1 };
  if (type === 'TenantMemberRemoved') return { ...row, members: -1 };
  if (payload.to !== undefined) return { ...row, status: payload.to };
  return row; // resources, quotas, welcome, role changes: only the version moves
}

const appliedRow = z.object({ applied: z.coerce.number() });

/**
 * Applies checked rows into `table` in one statement: per tenant, the rows newer than its read-model
 * row (each version once) — a reservation creates it; the newest status wins, member deltas add up,
 * the version moves to the newest. Rows of a tenant that was never reserved change nothing.
 */
export async function applyTenantRows(
  db: CommonQueryMethods,
  rows: TenantRow[],
  table = 'rm_tenants',
): Promise<number> {
  if (rows.length === 0) return 0;
  const rm = sql.identifier([table]);
  return db.oneFirst(sql.type(appliedRow)`
    with batch as (
      select * from jsonb_to_recordset(${sql.jsonb(rows)}) as b(
        tenant_id text, version bigint, at timestamptz, slug text, name text, plan text, status text, members integer)
    ), fresh as (
      select distinct on (b.tenant_id, b.version) b.*
      from batch b left join ${rm} r on r.tenant_id = b.tenant_id
      where b.version > coalesce(r.version, 0)
      order by b.tenant_id, b.version
    ), changes as (
      select tenant_id, count(*) as events, max(version) as version,
             (array_agg(at order by version desc))[1] as at,
             max(slug) as slug, max(name) as name, max(plan) as plan,
             (array_agg(status order by version desc) filter (where status is not null))[1] as status,
             sum(members) as members
      from fresh group by tenant_id
    ), written as (
      insert into ${rm} (tenant_id, slug, name, plan, status, members, version, updated_at)
      select c.tenant_id, coalesce(r.slug, c.slug), coalesce(r.name, c.name), coalesce(r.plan, c.plan),
             coalesce(c.status, r.status, 'provisioning'), coalesce(r.members, 0) + c.members, c.version, c.at
      from changes c left join ${rm} r on r.tenant_id = c.tenant_id
      where r.tenant_id is not null or c.slug is not null
      on conflict (tenant_id) do update
        set status = excluded.status, members = excluded.members, version = excluded.version,
            updated_at = excluded.updated_at
        where ${rm}.version < excluded.version
      returning tenant_id
    )
    select coalesce(sum(c.events), 0) as applied from changes c join written w on w.tenant_id = c.tenant_id`);
}

/** The tenants projection into `table` (the live one, or a rebuild's fresh copy). */
export function tenantProjection(table = 'rm_tenants'): Projection<TenantRow> {
  return {
    rowOf: tenantRow,
    apply: (db, rows) => applyTenantRows(db, rows, table),
    versionOf: (row) => ({ aggregate: row.tenant_id, version: row.version }),
    async currentVersions(db, tenantIds) {
      const rows = await db.any(sql.type(versionRow)`
        select tenant_id as "tenantId", version from ${sql.identifier([table])}
        where tenant_id = any(${sql.array(tenantIds, 'text')})`);
      return new Map(rows.map((r) => [r.tenantId, r.version]));
    },
  };
}

const versionRow = z.object({ tenantId: z.string(), version: z.coerce.number().int() });

/** The tenant as the read model has it, in the shape the API answers with (contracts/tenant.contracts.ts). */
export async function readTenant(db: CommonQueryMethods, tenantId: string) {
  return db.maybeOne(sql.type(tenantView)`
    select tenant_id as "tenantId", slug, name, plan, status, members, version::integer as version
    from rm_tenants where tenant_id = ${tenantId}`);
}

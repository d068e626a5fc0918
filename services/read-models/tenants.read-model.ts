// The `tenants` projection: one row per tenant with its status, plan and member count, guarded by
// the tenant's aggregate version like every read model here.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { TENANT_AGGREGATE, tenantView } from '../../contracts/tenant.contracts.ts';
import type { OutboxEvent } from '../kernel/outbox.ts';
import type { ApplyOutcome } from './projections.ts';

const reserved = z.object({ slug: z.string(), name: z.string(), plan: z.string() });
const transitioned = z.object({ to: z.string() });

/** Applies one tenant event into `table`; events of other aggregates are ignored. */
export async function applyTenantEvent(
  db: CommonQueryMethods,
  event: OutboxEvent,
  table = 'rm_tenants',
): Promise<ApplyOutcome> {
  if (event.aggregateType !== TENANT_AGGREGATE) return 'ignored';
  const rm = sql.identifier([table]);
  const at = new Date(event.occurredAt).toISOString();
  if (event.eventType === 'TenantReserved') {
    const p = reserved.parse(event.payload);
    const inserted = await db.query(sql.unsafe`
      insert into ${rm} (tenant_id, slug, name, plan, status, members, version, updated_at)
      values (${event.tenantId}, ${p.slug}, ${p.name}, ${p.plan}, 'provisioning', 0, ${event.aggregateVersion}, ${at}::timestamptz)
      on conflict (tenant_id) do nothing`);
    return inserted.rowCount === 0 ? 'unchanged' : 'applied';
  }
  const change =
    event.eventType === 'TenantMemberAdded'
      ? sql.fragment`members = members + 1`
      : event.eventType === 'TenantMemberRemoved'
        ? sql.fragment`members = members - 1`
        : 'to' in event.payload
          ? sql.fragment`status = ${transitioned.parse(event.payload).to}`
          : sql.fragment`status = status`; // resources, quotas, welcome: only the version moves
  const updated = await db.query(sql.unsafe`
    update ${rm} set ${change}, version = ${event.aggregateVersion}, updated_at = ${at}::timestamptz
    where tenant_id = ${event.tenantId} and version < ${event.aggregateVersion}`);
  return updated.rowCount === 0 ? 'unchanged' : 'applied';
}

/** The tenant as the read model has it, in the shape the API answers with (contracts/tenant.contracts.ts). */
export async function readTenant(db: CommonQueryMethods, tenantId: string) {
  return db.maybeOne(sql.type(tenantView)`
    select tenant_id as "tenantId", slug, name, plan, status, members, version::integer as version
    from rm_tenants where tenant_id = ${tenantId}`);
}

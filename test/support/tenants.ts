// Onboarded tenants for tests that are about something else (counters, the pipeline, outages): what
// a completed onboarding leaves behind — an active tenant with its owner and plan quota, and the
// owner's tuple in OpenFGA — made by the tenant service's own commands, without running the saga.
// The saga itself is proven by the onboarding tests and the stack e2e.
import { sql } from 'slonik';
import { createAuthz, tenantObject, userObject, type Authz } from '../../runtime/authz.ts';
import type { DatabasePool } from '../../services/kernel/database.ts';
import { createTenantService } from '../../services/tenant/tenant.commands.ts';
import type { Plan } from '../../services/tenant/tenant.domain.ts';
import { testStack } from './env.ts';

/** The test stack's OpenFGA store, without a decision cache (a test sees each change at once). */
export function testAuthz(): Authz {
  const stack = testStack();
  return createAuthz({
    OPENFGA_API_URL: stack.OPENFGA_API_URL,
    OPENFGA_STORE_ID: stack.OPENFGA_STORE_ID,
    ...(stack.OPENFGA_API_TOKEN ? { OPENFGA_API_TOKEN: stack.OPENFGA_API_TOKEN } : {}),
    AUTHZ_CACHE_MS: 0,
  });
}

export interface TenantFixture {
  tenantId: string;
  /** The owner's user id (a token's `sub`). */
  owner: string;
  plan?: Plan;
  /** Further members and their roles. */
  members?: Record<string, 'admin' | 'member' | 'viewer'>;
}

/**
 * An active tenant as onboarding leaves it (idempotent: a second call changes nothing). Without
 * `authz`, only the database side (for tests below the BFF, which ask OpenFGA nothing).
 */
export async function onboardedTenant(pool: DatabasePool, fixture: TenantFixture, authz?: Authz): Promise<void> {
  const tenants = createTenantService({ pool });
  const metadata = { actor: fixture.owner, correlationId: 'test-fixture' };
  const { tenantId } = fixture;
  await tenants.reserve(
    {
      tenantId,
      slug: tenantId.toLowerCase().replace(/_/g, '-').slice(0, 63),
      name: tenantId,
      plan: fixture.plan ?? 'pro',
      ownerUserId: fixture.owner,
    },
    metadata,
  );
  await tenants.addOwner(tenantId, metadata);
  await tenants.applyQuotas(tenantId, metadata);
  await tenants.activate(tenantId, metadata);
  await authz?.grant([{ user: userObject(fixture.owner), relation: 'owner', object: tenantObject(tenantId) }]);
  for (const [userId, role] of Object.entries(fixture.members ?? {})) {
    await tenants.setMember(tenantId, userId, role, metadata);
    await authz?.grant([{ user: userObject(userId), relation: role, object: tenantObject(tenantId) }]);
  }
}

/**
 * Only the rows that let counters be written (an active tenant and its quota), with no events: for
 * tests of the relay, the outbox and the pipeline that count every outbox row. With `authz`, the
 * owner's tuple too, for writes through the BFF.
 */
export async function activeTenantRows(
  pool: DatabasePool,
  tenantId: string,
  options: { owner?: string; authz?: Authz; maxCounters?: number } = {},
): Promise<void> {
  const owner = options.owner ?? 'u1';
  await pool.query(sql.unsafe`
    insert into tenants (tenant_id, slug, name, plan, status, owner_user_id, version)
    values (${tenantId}, ${tenantId.toLowerCase()}, ${tenantId}, 'pro', 'active', ${owner}, 1) on conflict do nothing`);
  await pool.query(sql.unsafe`
    insert into tenant_quotas (tenant_id, max_counters) values (${tenantId}, ${options.maxCounters ?? 1_000})
    on conflict do nothing`);
  await options.authz?.grant([{ user: userObject(owner), relation: 'owner', object: tenantObject(tenantId) }]);
}

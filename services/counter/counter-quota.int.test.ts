// Tenant state gates counter writes (issue 16, item 5). The plan quota under concurrency: first
// writes of new counters on one tenant are serialised on the tenant's quota row, so 50 concurrent
// first writes on a quota of 10 create exactly 10 counters (the count and the insert used to race:
// 11–16 got through). Only an active tenant with a quota accepts writes: a tenant never onboarded,
// one compensated, one still provisioning and one whose quota is missing all refuse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { onboardedTenant } from '../../test/support/tenants.ts';
import { createTenantService } from '../tenant/tenant.commands.ts';
import { testStack } from '../../test/support/env.ts';
import { createDatabasePool, type DatabasePool } from '../kernel/database.ts';
import { DomainError } from '../kernel/errors.ts';
import { createCounterCommands } from './counter.commands.ts';

describe('counter quota under concurrent first writes', function () {
  this.timeout(60_000);
  let db: FreshDatabase;
  let pool: DatabasePool;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'quota');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 20 });
    await onboardedTenant(pool, { tenantId: 'q1', owner: 'owner', plan: 'free' });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('50 concurrent first writes on a quota of 10: exactly 10 counters, 40 QUOTA_EXCEEDED', async () => {
    const commands = createCounterCommands({ pool });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        commands
          .execute({
            tenantId: 'q1',
            counterId: `c${i}`,
            command: { type: 'increment', by: 1 },
            metadata: { actor: 'u1' },
          })
          .then(
            () => 'ok',
            (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
          ),
      ),
    );
    const tally = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    assert.deepEqual(tally, { ok: 10, QUOTA_EXCEEDED: 40 });
    const stored = await pool.oneFirst(
      sql.type(z.object({ n: z.coerce.number() }))`select count(*) as n from counters where tenant_id = 'q1'`,
    );
    assert.equal(stored, 10);
  });

  it('refuses writes to a tenant never onboarded, one provisioning, one compensated, and one without a quota', async () => {
    const commands = createCounterCommands({ pool });
    const tenants = createTenantService({ pool });
    const metadata = { actor: 'owner' };
    const reserve = (tenantId: string) =>
      tenants.reserve({ tenantId, slug: tenantId, name: tenantId, plan: 'free', ownerUserId: 'owner' }, metadata);
    await reserve('provisioning-1');
    await reserve('compensated-1');
    await tenants.release('compensated-1', metadata);
    await onboardedTenant(pool, { tenantId: 'no-quota-1', owner: 'owner', plan: 'free' });
    await tenants.revertQuotas('no-quota-1', metadata);

    const attempt = (tenantId: string) =>
      commands.execute({ tenantId, counterId: 'c1', command: { type: 'increment', by: 1 }, metadata }).then(
        () => 'ok',
        (error: unknown) => (error instanceof DomainError ? `${error.code}: ${error.message}` : String(error)),
      );
    assert.deepEqual(
      [
        await attempt('ghost-1'),
        await attempt('provisioning-1'),
        await attempt('compensated-1'),
        await attempt('no-quota-1'),
      ],
      [
        'NOT_FOUND: no tenant ghost-1',
        "TENANT_STATE_CONFLICT: tenant provisioning-1 is provisioning; only an active tenant's counters accept writes",
        "TENANT_STATE_CONFLICT: tenant compensated-1 is compensated; only an active tenant's counters accept writes",
        "QUOTA_EXCEEDED: tenant no-quota-1 has no counter quota; its plan's quotas are not applied",
      ],
    );
    const stored = await pool.oneFirst(
      sql.type(z.object({ n: z.coerce.number() }))`
        select count(*) as n from counters where tenant_id in ('ghost-1', 'provisioning-1', 'compensated-1', 'no-quota-1')`,
    );
    assert.equal(stored, 0, 'nothing was written');
  });
});

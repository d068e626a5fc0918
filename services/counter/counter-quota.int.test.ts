// The plan quota under concurrency (issue 16, item 5): first writes of new counters on one tenant are
// serialised on the tenant's quota row, so 50 concurrent first writes on a quota of 10 create
// exactly 10 counters (the count and the insert used to race: 11–16 got through).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
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
    await pool.query(sql.unsafe`
      insert into tenants (tenant_id, slug, name, plan, status, owner_user_id, version)
      values ('q1', 'q1', 'Quota Ltd', 'free', 'active', 'owner', 1)`);
    await pool.query(sql.unsafe`insert into tenant_quotas (tenant_id, max_counters) values ('q1', 10)`);
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
});

// The fault-injection table exists only where faults are used (migration 0009, services/tenant/faults.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { createDatabasePool, type DatabasePool } from '../kernel/database.ts';
import { armFault, clearFault, consumeFault } from './faults.ts';

describe('fault injection table', function () {
  this.timeout(30_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  const exists = async () =>
    pool.oneFirst(
      sql.type(z.object({ exists: z.boolean() }))`select to_regclass('fault_injections') is not null as exists`,
    );

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'faults');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('a migrated database has none; without it no fault fires and clearing finds nothing', async () => {
    assert.equal(await exists(), false);
    assert.equal(await consumeFault(pool, 'acme', 'reserve'), null);
    assert.equal(await clearFault(pool, 'acme', 'reserve'), false);
  });

  it('arming a fault creates it; the fault fires as many times as armed', async () => {
    await armFault(pool, { slug: 'acme', step: 'reserve', mode: 'transient', times: 2 });
    assert.equal(await exists(), true);
    assert.deepEqual(
      [
        await consumeFault(pool, 'acme', 'reserve'),
        await consumeFault(pool, 'acme', 'reserve'),
        await consumeFault(pool, 'acme', 'reserve'),
      ],
      ['transient', 'transient', null],
    );
  });
});

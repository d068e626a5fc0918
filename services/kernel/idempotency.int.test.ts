import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { createDatabasePool, type DatabasePool } from './database.ts';
import { pruneExpiredIdempotencyKeys } from './idempotency.ts';

describe('idempotency keys: expiry and pruning', () => {
  let db: FreshDatabase;
  let pool: DatabasePool;
  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'idem');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('deletes only expired keys, in batches, and reports how many', async () => {
    await pool.query(sql.unsafe`
      insert into idempotency_keys (tenant_id, caller, operation, key, request_hash, response, expires_at)
      select 't', 'u', 'op', 'expired-' || n, 'h', '{}'::json, now() - interval '1 minute' from generate_series(1, 25) n
      union all
      select 't', 'u', 'op', 'live-' || n, 'h', '{}'::json, now() + interval '1 hour' from generate_series(1, 5) n`);
    assert.equal(await pruneExpiredIdempotencyKeys(pool, 10), 25);
    const left = await pool.anyFirst(
      sql.type(z.object({ key: z.string() }))`select key from idempotency_keys order by key`,
    );
    assert.deepEqual(left, ['live-1', 'live-2', 'live-3', 'live-4', 'live-5']);
    assert.equal(await pruneExpiredIdempotencyKeys(pool, 10), 0);
  });
});

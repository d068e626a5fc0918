import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { SchemaValidationError, sql } from 'slonik';
import { z } from 'zod';
import { testStack } from '../../test/support/env.ts';
import { createDatabasePool, type DatabasePool } from './database.ts';

describe('database pool (slonik) against real Postgres', () => {
  let pool: DatabasePool;
  before(async () => {
    pool = await createDatabasePool(testStack().DATABASE_URL, { maximumPoolSize: 2 });
  });
  after(async () => pool?.end());

  it('connects and runs typed queries whose rows are validated by their zod schema', async () => {
    const row = await pool.one(sql.type(z.object({ major: z.coerce.number().int() }))`
      select current_setting('server_version_num')::int / 10000 as major`);
    assert.ok(row.major >= 13, `PostgreSQL ${row.major} lacks xid8`);
  });

  it('rejects a row that does not match the declared schema instead of passing it on', async () => {
    await assert.rejects(pool.one(sql.type(z.object({ n: z.string() }))`select 42 as n`), SchemaValidationError);
  });

  it('rolls back a failed transaction as a whole', async () => {
    await pool.query(sql.unsafe`create temporary table if not exists tx_probe (id int)`);
    const marker = Math.floor(Math.random() * 1e9);
    await assert.rejects(
      pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`create table if not exists tx_probe_persistent (id int)`);
        await tx.query(sql.unsafe`insert into tx_probe_persistent (id) values (${marker})`);
        throw new Error('abort');
      }),
      /abort/,
    );
    const exists = await pool.oneFirst(
      sql.type(z.object({ t: z.string().nullable() }))`select to_regclass('tx_probe_persistent')::text as t`,
    );
    assert.equal(exists, null);
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import pg from 'pg';
import { createFreshDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { discoverMigrations, migrate } from './migrations.ts';

describe('migrations against real Postgres', () => {
  let db: FreshDatabase;
  before(async () => {
    db = await createFreshDatabase(testStack().DATABASE_URL, 'migrations');
  });
  after(async () => db?.drop());

  it('applies every migration once, even when two runners race, and is idempotent', async () => {
    const migrations = await discoverMigrations(join(import.meta.dirname, '..', '..'));
    const [first, second] = await Promise.all([migrate(db.url, migrations), migrate(db.url, migrations)]);
    assert.equal(first.applied.length + second.applied.length, migrations.length);
    const again = await migrate(db.url, migrations);
    assert.deepEqual(again, { applied: [], alreadyApplied: migrations.length });

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const columns = await client.query<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns where table_name = 'event_outbox'`,
    );
    await client.end();
    const types = Object.fromEntries(columns.rows.map((c) => [c.column_name, c.data_type]));
    assert.equal(types.tx_id, 'xid8');
    assert.equal(types.position, 'bigint');
    assert.equal(types.payload, 'jsonb');
  });

  it('refuses to continue when an applied migration was edited', async () => {
    const migrations = await discoverMigrations(join(import.meta.dirname, '..', '..'));
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(db.url, edited), /migration 0001-event-outbox.sql changed after it was applied/);
  });

  it('rolls a failing migration back completely and reports which one failed', async () => {
    const broken = {
      id: '9999-broken.sql',
      path: 'memory',
      sql: 'create table half_done (id int); select * from no_such_table;',
      checksum: 'x',
    };
    await assert.rejects(
      migrate(db.url, [broken]),
      /migration 9999-broken.sql failed: relation "no_such_table" does not exist/,
    );
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const leftovers = await client.query(
      `select to_regclass('half_done') as t, (select count(*) from schema_migrations where id = '9999-broken.sql') as n`,
    );
    await client.end();
    assert.deepEqual(leftovers.rows[0], { t: null, n: '0' });
  });
});

// Least privilege in Postgres (issue 15, item 7; migration 0010): the deployables' role reads and
// writes rows and nothing else. It is no superuser, may not create or drop tables or schemas, and
// changes the schema only through the owner's narrow functions: a tenant's schema (tenant_<slug>
// only) and the swap of a rebuilt read model (registered read-model tables only).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import pg from 'pg';
import { sql } from 'slonik';
import { z } from 'zod';
import { createRebuildActivities } from '../projector/rebuild.activities.ts';
import { createDatabasePool, type DatabasePool } from '../services/kernel/database.ts';
import { OUTBOX_START } from '../services/kernel/outbox.ts';
import { PROJECTION_DEFINITIONS } from '../services/read-models/projections.ts';
import { createMigratedDatabase, type FreshDatabase } from './support/database.ts';
import { testStack } from './support/env.ts';

/** Postgres's "insufficient privilege" (42501), or "must be owner" which shares it. */
const denied = /permission denied|must be owner/;

describe('least privilege: the application role (app_runtime) has row rights only', function () {
  this.timeout(60_000);
  let db: FreshDatabase;
  let owner: pg.Client;
  let app: pg.Client;
  let appPool: DatabasePool;
  const role = `app_test_${randomBytes(4).toString('hex')}`;

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'privilege');
    owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    const password = randomBytes(12).toString('hex');
    await owner.query(`create role ${role} login password '${password}' in role app_runtime`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    app = new pg.Client({ connectionString: url.toString() });
    await app.connect();
    appPool = await createDatabasePool(url.toString(), { maximumPoolSize: 2 });
  });
  after(async () => {
    await appPool?.end();
    await app?.end();
    await owner?.query(`drop role if exists ${role}`);
    await owner?.end();
    await db?.drop();
  });

  it('is no superuser and may not create, alter or drop tables, nor create a schema of its own', async () => {
    const { rows } = await app.query<{ super: boolean }>(
      'select rolsuper as super from pg_roles where rolname = current_user',
    );
    assert.equal(rows[0]?.super, false);
    await assert.rejects(app.query('create table stolen (x int)'), denied);
    await assert.rejects(app.query('drop table event_outbox'), denied);
    await assert.rejects(app.query('alter table event_outbox add column x int'), denied);
    await assert.rejects(app.query('create schema anything'), denied);
    await assert.rejects(app.query('truncate event_outbox'), denied);
  });

  it('reads and writes rows of every table of the migrations', async () => {
    const { rows } = await owner.query<{ name: string }>(
      `select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'rebuildable_tables'`,
    );
    assert.ok(rows.length >= 10, `the migrations' tables (${rows.length})`);
    for (const { name } of rows) {
      const privileges = await app.query<{ ok: boolean }>(
        `select has_table_privilege(current_user, $1, 'select, insert, update, delete') as ok`,
        [name],
      );
      assert.equal(privileges.rows[0]?.ok, true, `row rights on ${name}`);
    }
  });

  it("creates and drops a tenant's schema through create_tenant_schema / drop_tenant_schema, and nothing but tenant_<slug>", async () => {
    await app.query(`select create_tenant_schema('tenant_acme')`);
    const exists = async () =>
      (await owner.query(`select 1 from pg_namespace where nspname = 'tenant_acme'`)).rowCount === 1;
    assert.equal(await exists(), true);
    await assert.rejects(app.query(`create table tenant_acme.x (a int)`), denied, 'the schema is not the app role’s');
    await app.query(`select drop_tenant_schema('tenant_acme')`);
    assert.equal(await exists(), false);
    await assert.rejects(app.query(`select drop_tenant_schema('public')`), /not a tenant schema name/);
    await assert.rejects(
      app.query(`select create_tenant_schema('tenant_x"; drop table event_outbox; --')`),
      /not a tenant schema name/,
    );
  });

  it("rebuilds every projection with the projector's own activities, and may not swap any other table", async () => {
    const registered = await owner.query<{ name: string }>('select name from rebuildable_tables order by name');
    const declared = Object.values(PROJECTION_DEFINITIONS).flatMap((definition) => definition.tables);
    assert.deepEqual(
      registered.rows.map((row) => row.name),
      [...declared].sort(),
      'rebuildable_tables lists exactly the projections’ tables',
    );
    const activities = createRebuildActivities({ pool: appPool, projections: PROJECTION_DEFINITIONS });
    for (const projection of Object.keys(PROJECTION_DEFINITIONS)) {
      await activities.prepareRebuild(projection);
      await activities.swapRebuild({ projection, checkpoint: OUTBOX_START });
    }
    const summary = await appPool.oneFirst(
      sql.type(z.object({ n: z.coerce.number() }))`select count(*) as n from rm_counter_summary`,
    );
    assert.equal(summary, 0, 'the swapped-in table is readable by the app role');
    await assert.rejects(
      app.query(`select prepare_read_model_rebuild('event_outbox')`),
      /not a rebuildable read-model table/,
    );
    await assert.rejects(
      app.query(`select swap_read_model_rebuild('idempotency_keys')`),
      /not a rebuildable read-model table/,
    );
    await assert.rejects(app.query(`select assert_rebuildable('rm_tenants')`), denied, 'helpers are not granted');
  });
});

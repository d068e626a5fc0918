// The onboarding saga on the test stack's dev server with real activities against a fresh database
// and the real NATS, plus a look at everything onboarding can leave behind for a tenant.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { sql } from 'slonik';
import { z } from 'zod';
import { createOnboardingActivities } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import { connectNats } from '../../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../../services/kernel/database.ts';
import { createTenantService } from '../../services/tenant/tenant.commands.ts';
import { tenantResourceNames } from '../../services/tenant/tenant.domain.ts';
import { createMigratedDatabase } from './database.ts';
import { testStack } from './env.ts';
import { startTestWorker, type RunningTestWorker } from './temporal-worker.ts';
import { testAuthz } from './tenants.ts';
import { tenantObject, type Authz } from '../../runtime/authz.ts';

export interface OnboardingHarness {
  /** The harness's own migrated database. */
  databaseUrl: string;
  pool: DatabasePool;
  jsm: JetStreamManager;
  /** The test stack's OpenFGA store the activities write tuples to. */
  authz: Authz;
  worker: RunningTestWorker;
  /** The tenant's status ('none' when there is no row) and a count of each resource onboarding creates. */
  leftovers(tenantId: string): Promise<{
    status: string;
    schema: number;
    stream: number;
    resources: number;
    owners: number;
    /** The owner's tuple in OpenFGA (granted by the grant-owner step, revoked by its undo and by offboarding). */
    ownerTuples: number;
    quotas: number;
  }>;
  stop(): Promise<void>;
}

/** What a completed onboarding leaves behind: active, with each resource once. */
export const PROVISIONED = {
  status: 'active',
  schema: 1,
  stream: 1,
  resources: 2,
  owners: 1,
  ownerTuples: 1,
  quotas: 1,
} as const;

export async function startOnboardingHarness(prefix: string): Promise<OnboardingHarness> {
  const db = await createMigratedDatabase(testStack().DATABASE_URL, prefix);
  const pool = await createDatabasePool(db.url, { maximumPoolSize: 6 });
  const nats = await connectNats(testStack().NATS_URL, `${prefix}-test`);
  const jsm = await jetstreamManager(nats);
  const authz = testAuthz();
  const worker = await startTestWorker(
    createOnboardingActivities({
      pool,
      tenants: createTenantService({ pool }),
      jsm,
      authz,
      faultsEnabled: true,
    }),
    prefix,
  );
  const count = (query: ReturnType<typeof sql.unsafe>) =>
    pool.oneFirst(sql.type(z.object({ n: z.coerce.number() }))`select (${query}) as n`);
  return {
    databaseUrl: db.url,
    pool,
    jsm,
    authz,
    worker,
    async leftovers(tenantId) {
      const names = tenantResourceNames(tenantId);
      return {
        status:
          (await pool.maybeOneFirst(
            sql.type(z.object({ status: z.string() }))`select status from tenants where tenant_id = ${tenantId}`,
          )) ?? 'none',
        schema: await count(
          sql.unsafe`select count(*) from information_schema.schemata where schema_name = ${names.schema}`,
        ),
        stream: await jsm.streams.info(names.stream).then(
          () => 1,
          () => 0,
        ),
        resources: await count(sql.unsafe`select count(*) from tenant_resources where tenant_id = ${tenantId}`),
        owners: await count(
          sql.unsafe`select count(*) from tenant_memberships where tenant_id = ${tenantId} and role = 'owner'`,
        ),
        ownerTuples: (await authz.tuplesOn(tenantObject(tenantId))).filter((t) => t.relation === 'owner').length,
        quotas: await count(sql.unsafe`select count(*) from tenant_quotas where tenant_id = ${tenantId}`),
      };
    },
    async stop() {
      await worker.stop();
      await nats.drain();
      await pool.end();
      await db.drop();
    },
  };
}

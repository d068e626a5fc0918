// The saga worker process is SIGKILLed in the middle of an onboarding and started again: the saga
// finishes, every side effect exactly once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool, type DatabasePool } from '../../services/kernel/database.ts';
import { armFault } from '../../services/tenant/faults.ts';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { openFgaTestEnv, testStack } from '../../test/support/env.ts';
import { startEntry, until, type Started } from '../../test/support/processes.ts';
import { onboardingStatusQuery, tenantOnboarding } from './tenant-onboarding.workflow.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../../contracts/workflow-names.ts';

describe('onboarding survives a SIGKILLed saga worker', function () {
  this.timeout(180_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let connection: Connection;
  let worker: Started | undefined;

  const startWorker = async () => {
    const stack = testStack();
    const started = startEntry('saga-worker/saga-worker.main.ts', {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      NATS_URL: stack.NATS_URL,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
      ...openFgaTestEnv(),
      FAULT_INJECTION: 'enabled',
      DEPLOY_ENVIRONMENT: 'test',
    });
    await until(
      'saga worker polling',
      async () => {
        if (started.child.exitCode !== null) throw new Error(`saga worker exited: ${started.output()}`);
        return /"msg":"worker polling"/.test(started.output());
      },
      90_000,
    );
    worker = started;
  };

  before(async () => {
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'crashsaga');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 2 });
    connection = await Connection.connect({ address: testStack().TEMPORAL_ADDRESS });
  });
  after(async () => {
    worker?.child.kill('SIGKILL');
    await connection?.close();
    await pool?.end();
    await db?.drop();
  });

  it('finishes correctly after the worker is killed mid-step and restarted', async () => {
    await startWorker();
    const id = `k${randomUUID().slice(0, 8)}`;
    const input = { tenantId: id, slug: `slug-${id}`, name: id, plan: 'pro' as const, ownerUserId: 'owner-1' };
    // add-owner fails three times (retried with backoff), which keeps the saga there long enough to kill its worker
    await armFault(pool, { slug: input.slug, step: 'add-owner', mode: 'transient', times: 3 });
    const client = new Client({ connection });
    const handle = await client.workflow.start(tenantOnboarding, {
      taskQueue: TASK_QUEUES.sagas,
      workflowId: WORKFLOW_IDS.onboarding(id),
      args: [input],
    });
    await until(
      'saga at add-owner',
      async () => (await handle.query(onboardingStatusQuery)).currentStep === 'add-owner',
      30_000,
    );
    worker!.child.kill('SIGKILL');
    await worker!.exited;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await startWorker();
    assert.equal((await handle.result()).sagaStatus, 'completed');
    const events = await pool.anyFirst(sql.type(z.object({ t: z.string() }))`
      select event_type as t from event_outbox where aggregate_id = ${id} order by aggregate_version`);
    assert.deepEqual(events, [
      'TenantReserved',
      'TenantResourceProvisioned',
      'TenantResourceProvisioned',
      'TenantMemberAdded',
      'TenantQuotasApplied',
      'TenantActivated',
      'TenantWelcomeSent',
    ]);
    const status = await pool.oneFirst(
      sql.type(z.object({ s: z.string() }))`select status as s from tenants where tenant_id = ${id}`,
    );
    assert.equal(status, 'active');
  });
});

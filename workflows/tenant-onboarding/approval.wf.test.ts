// Enterprise approval with its deadline, on the time-skipping test server (from the pinned PyPI
// wheel, no download) with real activities against real Postgres and NATS.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { createOnboardingActivities } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import { connectNats, type NatsConnection } from '../../runtime/connections.ts';
import { createDatabasePool, type DatabasePool } from '../../services/kernel/database.ts';
import { createTenantService } from '../../services/tenant/tenant.commands.ts';
import { armFault } from '../../services/tenant/faults.ts';
import { createMigratedDatabase, type FreshDatabase } from '../../test/support/database.ts';
import { testStack } from '../../test/support/env.ts';
import { approveSignal, tenantOnboarding, type OnboardingInput } from './tenant-onboarding.workflow.ts';
import { WORKFLOW_IDS } from '../../contracts/workflow-names.ts';
import { testAuthz } from '../../test/support/tenants.ts';

describe('enterprise approval deadline (time-skipping server, real activities)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `approval-${randomUUID()}`;

  before(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: {
        executable: { type: 'existing-path', path: testStack().TEMPORAL_TEST_SERVER_PATH },
      },
    });
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'approval');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 4 });
    nats = await connectNats(testStack().NATS_URL, 'approval-test');
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../index.ts', import.meta.url)),
      activities: createOnboardingActivities({
        pool,
        tenants: createTenantService({ pool }),
        jsm: await jetstreamManager(nats),
        authz: testAuthz(),
        faultsEnabled: false,
      }),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await nats?.drain();
    await pool?.end();
    await db?.drop();
  });

  const enterprise = (): OnboardingInput => {
    const id = `e${randomUUID().slice(0, 8)}`;
    return {
      tenantId: id,
      slug: `slug-${id}`,
      name: id,
      plan: 'enterprise',
      ownerUserId: 'owner-1',
      approvalTimeout: '3 days',
      searchAttributes: false,
    }; // the test server cannot register them
  };
  const statusOf = (tenantId: string) =>
    pool.oneFirst(sql.type(z.object({ status: z.string() }))`select status from tenants where tenant_id = ${tenantId}`);

  it('approved two days into a three-day deadline: active (and an armed fault does not fire: the switch is off here)', async () => {
    const input = enterprise();
    await armFault(pool, { slug: input.slug, step: 'create-schema', mode: 'fail', times: 1 });
    const handle = await env.client.workflow.start(tenantOnboarding, {
      taskQueue,
      workflowId: WORKFLOW_IDS.onboarding(input.tenantId),
      args: [input],
    });
    await env.sleep('2 days');
    await handle.signal(approveSignal, { approvedBy: 'platform-admin-1' });
    assert.equal((await handle.result()).sagaStatus, 'completed');
    assert.equal(await statusOf(input.tenantId), 'active');
  });

  it('no approval within the deadline: compensated, in moments of real time', async () => {
    const input = enterprise();
    const startedAt = Date.now();
    const handle = await env.client.workflow.start(tenantOnboarding, {
      taskQueue,
      workflowId: WORKFLOW_IDS.onboarding(input.tenantId),
      args: [input],
    });
    await assert.rejects(
      handle.result(),
      (error: unknown) =>
        error instanceof WorkflowFailedError &&
        /APPROVAL_TIMEOUT/.test(String(error.cause?.message)) &&
        /compensated/.test(String(error.cause?.message)),
    );
    assert.ok(Date.now() - startedAt < 60_000, 'three days passed on the server, not on the clock');
    assert.equal(await statusOf(input.tenantId), 'compensated');
    const { status } = await handle.describe();
    assert.equal(status.name, 'FAILED');
  });
});

// Records the replay fixtures in test/replay/histories/: runs every workflow through its meaningful
// paths on the test stack (real activities, real servers) and exports each history with the same
// function as `npm run history -- export`. Not part of `npm test`; run it when workflow code changes:
//
//   FIXTURE_LABEL=v4 npm test -- test/replay/record-fixtures.ts
//
// Existing fixtures are never overwritten: they are histories that running workflows may still
// have, and the replay suite keeps proving the current code can continue them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Connection, Client, type WorkflowHandle } from '@temporalio/client';
import { after, before, describe, it } from 'mocha';
import { createMaintenanceActivities } from '../../activities/maintenance/maintenance.activities.ts';
import { createSmokeActivities } from '../../activities/smoke/smoke.activities.ts';
import { createOnboardingActivities } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import { connectNats, type NatsConnection } from '../../runtime/connections.ts';
import { exportHistory, SDK_VERSION } from '../../cli/history-export.ts';
import { createCounterCommands } from '../../services/counter/counter.commands.ts';
import { createDatabasePool, type DatabasePool } from '../../services/kernel/database.ts';
import { armFault } from '../../services/tenant/faults.ts';
import { createTenantService } from '../../services/tenant/tenant.commands.ts';
import { rebuildProjection } from '../../workflows/projections/rebuild-projection.workflow.ts';
import { pruneIdempotencyKeysWorkflow } from '../../workflows/maintenance/prune-idempotency-keys.workflow.ts';
import { smokeWorkflow } from '../../workflows/smoke/smoke.workflow.ts';
import {
  approveSignal,
  tenantOnboarding,
  type OnboardingInput,
} from '../../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';
import { tenantOffboarding } from '../../workflows/tenant-onboarding/tenant-offboarding.workflow.ts';
import { tenantMembership } from '../../workflows/tenant-onboarding/tenant-membership.workflow.ts';
import { createMigratedDatabase, type FreshDatabase } from '../support/database.ts';
import { testStack } from '../support/env.ts';
import { createPipeline, until, type Pipeline } from '../support/pipeline.ts';
import { startTestWorker, type RunningTestWorker } from '../support/temporal-worker.ts';
import { HISTORIES_DIR } from './fixtures.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../../contracts/workflow-names.ts';
import { activeTenantRows, testAuthz } from '../support/tenants.ts';

const label = process.env.FIXTURE_LABEL;

describe('record replay fixtures', function () {
  this.timeout(600_000);
  let db: FreshDatabase;
  let pool: DatabasePool;
  let nats: NatsConnection;
  let worker: RunningTestWorker;

  before(async () => {
    assert.ok(
      label && /^[a-z0-9-]+$/.test(label),
      'set FIXTURE_LABEL (e.g. v3): it names this set of fixtures next to the SDK version',
    );
    mkdirSync(HISTORIES_DIR, { recursive: true });
    db = await createMigratedDatabase(testStack().DATABASE_URL, 'fixtures');
    pool = await createDatabasePool(db.url, { maximumPoolSize: 6 });
    nats = await connectNats(testStack().NATS_URL, 'fixtures');
    const jsm = await jetstreamManager(nats);
    worker = await startTestWorker(
      {
        ...createOnboardingActivities({
          pool,
          tenants: createTenantService({ pool }),
          jsm,
          authz: testAuthz(),
          faultsEnabled: true,
        }),
        ...createSmokeActivities({ workerName: 'fixtures' }),
        ...createMaintenanceActivities({ pool }),
      },
      'fixtures',
    );
  });
  after(async () => {
    await worker?.stop();
    await nats?.drain();
    await pool?.end();
    await db?.drop();
  });

  /** Writes the history of `workflowId` (latest run, or `runId`) as `<type>.<scenario>.<label>.sdk-<version>.json`. */
  const record = async (client: Client, scenario: string, workflowId: string, runId?: string) => {
    const exported = await exportHistory(client, workflowId, runId);
    const file = join(HISTORIES_DIR, `${exported.workflowType}.${scenario}.${label}.sdk-${SDK_VERSION}.json`);
    if (existsSync(file))
      throw new Error(`${file} exists; fixtures are never overwritten — choose a new FIXTURE_LABEL`);
    writeFileSync(file, exported.json);
    process.stderr.write(`    ${exported.workflowType} ${scenario}: ${exported.status}, ${exported.events} events\n`);
  };

  const newTenant = (plan: OnboardingInput['plan'], extra: Partial<OnboardingInput> = {}): OnboardingInput => {
    const id = `t${randomUUID().slice(0, 8)}`;
    return { tenantId: id, slug: `fixture-${id}`, name: `Fixture ${id}`, plan, ownerUserId: 'owner-1', ...extra };
  };
  const onboard = (input: OnboardingInput) =>
    worker.client.workflow.start(tenantOnboarding, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.onboarding(input.tenantId),
      args: [input],
    });
  const settled = (handle: WorkflowHandle) => handle.result().catch(() => undefined);
  const waitingForApproval = (handle: WorkflowHandle) =>
    until('the saga to wait for approval', async () =>
      (await handle.describe()).typedSearchAttributes.getAll().some((p) => p.value === 'waiting-approval'),
    );

  for (const plan of ['free', 'pro'] as const) {
    it(`onboarding, happy path (${plan})`, async () => {
      const handle = await onboard(newTenant(plan));
      await handle.result();
      await record(worker.client, `happy-${plan}`, handle.workflowId);
    });
  }

  it('onboarding, enterprise approved', async () => {
    const handle = await onboard(newTenant('enterprise'));
    await waitingForApproval(handle);
    await handle.signal(approveSignal, { approvedBy: 'platform-admin-1' });
    await handle.result();
    await record(worker.client, 'enterprise-approved', handle.workflowId);
  });

  it('onboarding, enterprise approval timed out', async () => {
    const handle = await onboard(newTenant('enterprise', { approvalTimeout: '2 seconds' }));
    await settled(handle);
    await record(worker.client, 'approval-timed-out', handle.workflowId);
  });

  it('onboarding, cancelled while waiting for approval', async () => {
    const handle = await onboard(newTenant('enterprise'));
    await waitingForApproval(handle);
    await handle.cancel();
    await settled(handle);
    await record(worker.client, 'cancelled', handle.workflowId);
  });

  for (const [scenario, step] of [
    ['compensated-early', 'create-schema'],
    ['compensated-late', 'apply-quotas'],
  ] as const) {
    it(`onboarding, ${scenario} (fault at ${step})`, async () => {
      const input = newTenant('pro');
      await armFault(pool, { slug: input.slug, step, mode: 'fail', times: 1 });
      const handle = await onboard(input);
      await settled(handle);
      await record(worker.client, scenario, handle.workflowId);
    });
  }

  it('onboarding, a compensation that fails', async () => {
    const input = newTenant('pro');
    await armFault(pool, { slug: input.slug, step: 'apply-quotas', mode: 'fail', times: 1 });
    await armFault(pool, { slug: input.slug, step: 'undo-create-schema', mode: 'fail', times: 100 });
    const handle = await onboard(input);
    await settled(handle);
    await record(worker.client, 'compensation-failed', handle.workflowId);
  });

  it('offboarding of an active tenant', async () => {
    const input = newTenant('free');
    await (await onboard(input)).result();
    const handle = await worker.client.workflow.start(tenantOffboarding, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.offboarding(input.tenantId),
      args: [{ tenantId: input.tenantId, slug: input.slug, requestedBy: 'owner-1' }],
    });
    await handle.result();
    await record(worker.client, 'completed', handle.workflowId);
  });

  it('membership: a member added, then removed', async () => {
    const input = newTenant('free');
    await (await onboard(input)).result();
    for (const [scenario, role] of [
      ['added', 'member'],
      ['removed', null],
    ] as const) {
      const handle = await worker.client.workflow.start(tenantMembership, {
        taskQueue: worker.taskQueue,
        workflowId: WORKFLOW_IDS.membership(input.tenantId, `${scenario}-${randomUUID().slice(0, 8)}`),
        args: [{ tenantId: input.tenantId, userId: 'member-1', role, requestedBy: 'owner-1' }],
      });
      await handle.result();
      await record(worker.client, scenario, handle.workflowId);
    }
  });

  it('smoke and idempotency-key pruning', async () => {
    const smoke = await worker.client.workflow.start(smokeWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: `smoke-${randomUUID()}`,
      args: ['fixture', '1 second'],
    });
    await smoke.result();
    await record(worker.client, 'completed', smoke.workflowId);
    const prune = await worker.client.workflow.start(pruneIdempotencyKeysWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: `prune-${randomUUID()}`,
    });
    await prune.result();
    await record(worker.client, 'completed', prune.workflowId);
  });

  describe('relay, projections and rebuild (continue-as-new every 3 loops)', () => {
    let pipeline: Pipeline;
    let client: Client;
    let connection: Connection;
    before(async () => {
      pipeline = await createPipeline(db.url, {
        RELAY_BATCH_SIZE: '20',
        RELAY_LOOPS_PER_RUN: '3',
        RELAY_LOOP_SECONDS: '0.5',
        PROJECTOR_BATCH_SIZE: '20',
        PROJECTOR_LOOPS_PER_RUN: '3',
        PROJECTOR_LOOP_SECONDS: '0.5',
      });
      connection = await Connection.connect({ address: testStack().TEMPORAL_ADDRESS });
      client = new Client({ connection });
    });
    after(async () => {
      await pipeline?.stop();
      await connection?.close();
    });

    it('records a run that continued as new and the run it started, for the relay and each projection', async () => {
      await pipeline.start();
      const ids = [WORKFLOW_IDS.relay, WORKFLOW_IDS.projection('counters'), WORKFLOW_IDS.projection('tenants')];
      const firstRuns = new Map<string, string>();
      await until('relay and projections to start', async () => {
        for (const id of ids) firstRuns.set(id, (await client.workflow.getHandle(id).describe()).runId);
        return true;
      });
      const commands = createCounterCommands({ pool });
      await activeTenantRows(pool, 'fixtures');
      for (let i = 0; i < 200; i++) {
        await commands.execute({
          tenantId: 'fixtures',
          counterId: `c${i % 7}`,
          command: { type: 'increment', by: 1 },
          metadata: { actor: 'fixtures' },
        });
      }
      for (const id of ids) {
        await until(
          `${id} to continue as new`,
          async () => (await client.workflow.getHandle(id).describe()).runId !== firstRuns.get(id),
          120_000,
        );
        const prefix = id === WORKFLOW_IDS.relay ? '' : `${id.split('/')[1]}.`;
        await record(client, `${prefix}continued-as-new`, id, firstRuns.get(id));
        const handle = client.workflow.getHandle(id);
        await until(
          `${id}'s new run to complete a batch`,
          async () => ((await handle.fetchHistory()).events?.length ?? 0) >= 8,
          60_000,
        );
        await record(client, `${prefix}after-continue-as-new`, id);
      }
    });

    it('records a rebuild', async () => {
      const handle = await client.workflow.start(rebuildProjection, {
        taskQueue: TASK_QUEUES.projector,
        workflowId: WORKFLOW_IDS.rebuild('counters'),
        args: [{ projection: 'counters' }],
      });
      await handle.result();
      await record(client, 'counters', handle.workflowId);
    });
  });
});

// The onboarding saga on the real dev server with real activities against real Postgres and NATS:
// every plan's happy path, a non-retryable and a transient fault at every step, a compensation that
// fails, approval, and cancellation.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import fc from 'fast-check';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { type DatabasePool } from '../../services/kernel/database.ts';
import { armFault } from '../../services/tenant/faults.ts';
import { until } from '../../test/support/pipeline.ts';
import { PROVISIONED, startOnboardingHarness, type OnboardingHarness } from '../../test/support/onboarding.ts';
import type { RunningTestWorker } from '../../test/support/temporal-worker.ts';
import {
  approveSignal,
  onboardingStatusQuery,
  tenantOnboarding,
  type OnboardingInput,
} from './tenant-onboarding.workflow.ts';
import { tenantOffboarding } from './tenant-offboarding.workflow.ts';
import { createCounterCommands } from '../../services/counter/counter.commands.ts';
import { DomainError } from '../../services/kernel/errors.ts';
import { ONBOARDING_STEPS, WORKFLOW_IDS } from '../../contracts/workflow-names.ts';
import { tenantObject } from '../../runtime/authz.ts';

const PRE_PIVOT_STEPS = ONBOARDING_STEPS.slice(0, ONBOARDING_STEPS.indexOf('apply-quotas') + 1);
const EXPECTED_EVENTS = [
  'TenantReserved',
  'TenantResourceProvisioned',
  'TenantResourceProvisioned',
  'TenantMemberAdded',
  'TenantQuotasApplied',
  'TenantActivated',
  'TenantWelcomeSent',
];

describe('tenant onboarding saga (dev server, real activities)', function () {
  this.timeout(300_000);
  let harness: OnboardingHarness;
  let pool: DatabasePool;
  let worker: RunningTestWorker;

  before(async () => {
    harness = await startOnboardingHarness('onboarding');
    ({ pool, worker } = harness);
  });
  after(() => harness?.stop());

  const newTenant = (plan: OnboardingInput['plan'] = 'pro'): OnboardingInput => {
    const id = `t${randomUUID().slice(0, 8)}`;
    return { tenantId: id, slug: `slug-${id}`, name: `Tenant ${id}`, plan, ownerUserId: 'owner-1' };
  };
  const start = (input: OnboardingInput): Promise<WorkflowHandle<typeof tenantOnboarding>> =>
    worker.client.workflow.start(tenantOnboarding, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.onboarding(input.tenantId),
      args: [input],
    });

  const leftovers = (tenantId: string) => harness.leftovers(tenantId);
  const eventsOf = (tenantId: string) =>
    pool.anyFirst(sql.type(z.object({ t: z.string() }))`
      select event_type as t from event_outbox where aggregate_type = 'tenant' and aggregate_id = ${tenantId} order by aggregate_version`);
  const sagaStatusOf = async (handle: WorkflowHandle) =>
    (await handle.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStatus')?.value;

  for (const plan of ['free', 'pro'] as const) {
    it(`happy path (${plan}): active with schema, NATS stream, owner and quota, events in order`, async () => {
      const input = newTenant(plan);
      const handle = await start(input);
      const result = await handle.result();
      assert.equal(result.sagaStatus, 'completed');
      assert.deepEqual(await leftovers(input.tenantId), PROVISIONED);
      assert.deepEqual(await eventsOf(input.tenantId), EXPECTED_EVENTS);
      assert.equal(await sagaStatusOf(handle), 'completed');
      const summaries = ((await handle.fetchHistory()).events ?? [])
        .filter((event) => event.activityTaskScheduledEventAttributes && event.userMetadata?.summary)
        .map((event) => defaultPayloadConverter.fromPayload<string>(event.userMetadata!.summary!));
      assert.deepEqual(
        summaries.slice(0, 3),
        [
          'Reserve the tenant id and its slug',
          "Create the tenant's Postgres schema",
          "Create the tenant's NATS JetStream stream",
        ],
        'readable activity summaries for the Web UI',
      );
    });
  }

  it("the free plan's quota is enforced by the counter service: the 11th counter is refused", async () => {
    const input = newTenant('free');
    await (await start(input)).result();
    const counters = createCounterCommands({ pool });
    const increment = (counterId: string) =>
      counters.execute({ tenantId: input.tenantId, counterId, command: { type: 'increment', by: 1 }, metadata: {} });
    for (let i = 0; i < 10; i++) await increment(`c${i}`);
    await increment('c0'); // an existing counter is not a new one
    await assert.rejects(
      increment('c10'),
      (error: unknown) => error instanceof DomainError && error.code === 'QUOTA_EXCEEDED',
    );
  });

  it('happy path (enterprise): waits for approval, then activates', async () => {
    const input = newTenant('enterprise');
    const handle = await start(input);
    await until(
      'waiting for approval',
      async () => (await handle.query(onboardingStatusQuery)).sagaStatus === 'waiting-approval',
      30_000,
    );
    assert.equal((await leftovers(input.tenantId)).status, 'awaiting-approval');
    await handle.signal(approveSignal, { approvedBy: 'platform-admin-1' });
    assert.equal((await handle.result()).sagaStatus, 'completed');
    assert.equal((await leftovers(input.tenantId)).status, 'active');
  });

  it('a saga started by hand with text Postgres cannot store: compensated at once as VALIDATION_FAILED, nothing stored', async () => {
    for (const hostile of [{ name: 'Acme\u0000Ltd' }, { name: 'Acme \ud800' }, { ownerUserId: 'owner\u0007' }]) {
      const input = { ...newTenant(), ...hostile };
      const handle = await start(input);
      await assert.rejects(
        handle.result(),
        (error: unknown) =>
          error instanceof WorkflowFailedError && /VALIDATION_FAILED/.test(String(error.cause?.message)),
      );
      assert.equal((await handle.query(onboardingStatusQuery)).sagaStatus, 'compensated');
      assert.match(String((await handle.query(onboardingStatusQuery)).failure), /^VALIDATION_FAILED: tenant input/);
      assert.deepEqual(await leftovers(input.tenantId), {
        status: 'none',
        schema: 0,
        stream: 0,
        resources: 0,
        owners: 0,
        ownerTuples: 0,
        quotas: 0,
      });
      assert.deepEqual(await eventsOf(input.tenantId), []);
    }
  });

  for (const step of PRE_PIVOT_STEPS) {
    it(`non-retryable fault at ${step}: compensated, nothing left behind`, async () => {
      const input = newTenant();
      await armFault(pool, { slug: input.slug, step, mode: 'fail', times: 1 });
      const handle = await start(input);
      await assert.rejects(
        handle.result(),
        (error: unknown) =>
          error instanceof WorkflowFailedError &&
          /ONBOARDING_COMPENSATED|compensated/.test(String(error.cause?.message)),
      );
      const left = await leftovers(input.tenantId);
      assert.deepEqual(
        { ...left, status: undefined },
        { status: undefined, schema: 0, stream: 0, resources: 0, owners: 0, ownerTuples: 0, quotas: 0 },
      );
      assert.ok(
        left.status === 'compensated' || (step === 'reserve' && left.status === 'none'),
        `tenant status ${left.status}`,
      );
      assert.equal(await sagaStatusOf(handle), 'compensated');
      assert.equal((await handle.query(onboardingStatusQuery)).steps[step], 'compensated');
    });

    it(`transient fault at ${step} (fails twice): completes with every side effect exactly once`, async () => {
      const input = newTenant();
      await armFault(pool, { slug: input.slug, step, mode: 'transient', times: 2 });
      const handle = await start(input);
      assert.equal((await handle.result()).sagaStatus, 'completed');
      assert.deepEqual(await leftovers(input.tenantId), PROVISIONED);
      assert.deepEqual(await eventsOf(input.tenantId), EXPECTED_EVENTS);
    });
  }

  it('property: for any faults at any steps, the tenant ends active with every resource once, or compensated with none', async () => {
    const fault = fc.record({
      step: fc.constantFrom(...PRE_PIVOT_STEPS, 'ensure-provisioned', 'activate', 'send-welcome'),
      mode: fc.constantFrom('fail' as const, 'transient' as const),
    });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fault, { maxLength: 3, selector: (f) => f.step }), async (faults) => {
        const input = newTenant();
        for (const f of faults)
          await armFault(pool, { slug: input.slug, step: f.step, mode: f.mode, times: f.mode === 'fail' ? 1 : 2 });
        const outcome = await (await start(input)).result().then(
          () => 'completed',
          () => 'failed',
        );
        const left = await leftovers(input.tenantId);
        // A non-retryable fault after the pivot is retried until it gets through: the saga only moves forward there.
        const failsBeforePivot = faults.some(
          (f) => f.mode === 'fail' && f.step !== 'activate' && f.step !== 'send-welcome',
        );
        if (failsBeforePivot) {
          assert.equal(outcome, 'failed');
          assert.deepEqual(
            { ...left, status: left.status === 'none' ? 'compensated' : left.status },
            { status: 'compensated', schema: 0, stream: 0, resources: 0, owners: 0, ownerTuples: 0, quotas: 0 },
          );
        } else {
          assert.equal(outcome, 'completed');
          assert.deepEqual(left, PROVISIONED);
          assert.deepEqual(await eventsOf(input.tenantId), EXPECTED_EVENTS);
        }
      }),
      { numRuns: 12, seed: 20261124 },
    );
  });

  it('a non-retryable failure after the pivot is retried until it gets through: active, nothing compensated', async () => {
    const input = newTenant();
    await armFault(pool, { slug: input.slug, step: 'activate', mode: 'fail', times: 1 });
    await armFault(pool, { slug: input.slug, step: 'send-welcome', mode: 'fail', times: 1 });
    const result = await (await start(input)).result();
    assert.equal(result.sagaStatus, 'completed');
    assert.deepEqual(await leftovers(input.tenantId), PROVISIONED);
    assert.deepEqual(await eventsOf(input.tenantId), EXPECTED_EVENTS);
  });

  it('a compensation that keeps failing leaves the tenant failed and the workflow failed with the reason', async () => {
    const input = newTenant();
    await armFault(pool, { slug: input.slug, step: 'apply-quotas', mode: 'fail', times: 1 });
    await armFault(pool, { slug: input.slug, step: 'undo-create-schema', mode: 'fail', times: 100 });
    const handle = await start(input);
    await assert.rejects(
      handle.result(),
      (error: unknown) =>
        error instanceof WorkflowFailedError &&
        /COMPENSATION_FAILED|could not be fully undone/.test(String(error.cause?.message)) &&
        /undo-create-schema|create-schema/.test(String(error.cause?.message)),
    );
    const left = await leftovers(input.tenantId);
    assert.equal(left.status, 'failed');
    assert.equal(left.schema, 1, 'the schema it could not drop is still there, and the tenant says failed');
    assert.equal(left.stream, 0, 'the other compensations still ran');
    assert.equal(await sagaStatusOf(handle), 'failed');
  });

  it('offboarding: writes stop, resources go, the tenant is archived — resuming past a failing step', async () => {
    const input = newTenant();
    await (await start(input)).result();
    const counters = createCounterCommands({ pool });
    await counters.execute({
      tenantId: input.tenantId,
      counterId: 'c',
      command: { type: 'increment', by: 1 },
      metadata: {},
    });
    await armFault(pool, { slug: input.slug, step: 'undo-create-schema', mode: 'transient', times: 2 });
    const offboarding = await worker.client.workflow.start(tenantOffboarding, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.offboarding(input.tenantId),
      args: [{ tenantId: input.tenantId, slug: input.slug, requestedBy: 'owner-1' }],
    });
    assert.equal((await offboarding.result()).sagaStatus, 'completed');
    assert.deepEqual(await leftovers(input.tenantId), {
      status: 'archived',
      schema: 0,
      stream: 0,
      resources: 0,
      owners: 0,
      ownerTuples: 0,
      quotas: 0,
    });
    await assert.rejects(
      counters.execute({
        tenantId: input.tenantId,
        counterId: 'c',
        command: { type: 'increment', by: 1 },
        metadata: {},
      }),
      (error: unknown) => error instanceof DomainError && error.code === 'TENANT_STATE_CONFLICT',
    );
    assert.deepEqual(
      await harness.authz.tuplesOn(tenantObject(input.tenantId)),
      [],
      'every tuple on the tenant is revoked (owner and initiator)',
    );
    assert.deepEqual((await eventsOf(input.tenantId)).slice(EXPECTED_EVENTS.length), [
      'TenantDeactivated',
      'TenantResourceRemoved',
      'TenantResourceRemoved',
      'TenantQuotasReverted',
      'TenantMemberRemoved',
      'TenantArchived',
    ]);
  });

  it('cancelled while waiting for approval: compensates, and the compensations are not cancelled', async () => {
    const input = newTenant('enterprise');
    const handle = await start(input);
    await until(
      'waiting for approval',
      async () => (await handle.query(onboardingStatusQuery)).sagaStatus === 'waiting-approval',
      30_000,
    );
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.deepEqual(await leftovers(input.tenantId), {
      status: 'compensated',
      schema: 0,
      stream: 0,
      resources: 0,
      owners: 0,
      ownerTuples: 0,
      quotas: 0,
    });
    assert.equal(await sagaStatusOf(handle), 'compensated');
  });
});

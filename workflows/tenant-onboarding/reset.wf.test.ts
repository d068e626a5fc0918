// `temporal workflow reset` on the real dev server, as the runbook (docs/reset-runbook.md) does it:
// an onboarding saga fails at a late step because of a bug (an armed fault), compensates and ends
// failed; the bug is fixed (the fault cleared); a reset re-runs the saga, which completes with every
// resource exactly once and each transition event once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { after, before, describe, it } from 'mocha';
import { sql } from 'slonik';
import { z } from 'zod';
import { type DatabasePool } from '../../services/kernel/database.ts';
import { armFault, clearFault } from '../../services/tenant/faults.ts';
import { temporalCli } from '../../test/support/temporal-cli.ts';
import { PROVISIONED, startOnboardingHarness, type OnboardingHarness } from '../../test/support/onboarding.ts';
import type { RunningTestWorker } from '../../test/support/temporal-worker.ts';
import { tenantOnboarding, type OnboardingInput } from './tenant-onboarding.workflow.ts';
import { WORKFLOW_IDS } from '../../contracts/workflow-names.ts';

const COMPENSATED_AT_QUOTAS = [
  'TenantReserved',
  'TenantResourceProvisioned',
  'TenantResourceProvisioned',
  'TenantMemberAdded',
  'TenantMemberRemoved',
  'TenantResourceRemoved',
  'TenantResourceRemoved',
  'TenantReleased',
];

describe('temporal workflow reset of a failed onboarding saga (dev server, real activities)', function () {
  this.timeout(180_000);
  let harness: OnboardingHarness;
  let pool: DatabasePool;
  let worker: RunningTestWorker;

  before(async () => {
    harness = await startOnboardingHarness('reset');
    ({ pool, worker } = harness);
  });
  after(() => harness?.stop());

  const leftovers = (tenantId: string) => harness.leftovers(tenantId);
  const events = (tenantId: string) =>
    pool.any(sql.type(z.object({ type: z.string(), version: z.coerce.number(), runId: z.string() }))`
      select event_type as type, aggregate_version as version, metadata->>'workflowRunId' as "runId"
      from event_outbox where aggregate_type = 'tenant' and aggregate_id = ${tenantId} order by aggregate_version`);

  /** Starts a pro onboarding with a standing bug at apply-quotas and waits for it to compensate. */
  const failAtQuotas = async () => {
    const id = `t${randomUUID().slice(0, 8)}`;
    const input: OnboardingInput = {
      tenantId: id,
      slug: `reset-${id}`,
      name: `Reset ${id}`,
      plan: 'pro',
      ownerUserId: 'owner-1',
    };
    await armFault(pool, { slug: input.slug, step: 'apply-quotas', mode: 'fail', times: 1_000 });
    const handle = await worker.client.workflow.start(tenantOnboarding, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.onboarding(id),
      args: [input],
    });
    await assert.rejects(
      handle.result(),
      (error: unknown) =>
        error instanceof WorkflowFailedError && /ONBOARDING_COMPENSATED|compensated/.test(String(error.cause?.message)),
    );
    assert.deepEqual(await leftovers(id), {
      status: 'compensated',
      schema: 0,
      stream: 0,
      resources: 0,
      owners: 0,
      ownerTuples: 0,
      quotas: 0,
    });
    assert.deepEqual(
      (await events(id)).map((e) => e.type),
      COMPENSATED_AT_QUOTAS,
    );
    assert.ok(await clearFault(pool, input.slug, 'apply-quotas'), 'the fix: the fault is removed');
    return { input, failedRunId: handle.firstExecutionRunId };
  };

  /** After the reset: a new run that completes, a complete tenant, and the new run's own events. */
  const afterReset = async (tenantId: string, failedRunId: string) => {
    const latest = worker.client.workflow.getHandle<typeof tenantOnboarding>(WORKFLOW_IDS.onboarding(tenantId));
    const newRunId = (await latest.describe()).runId;
    assert.notEqual(newRunId, failedRunId, 'the reset started a new run');
    assert.equal((await latest.result()).sagaStatus, 'completed');
    assert.deepEqual(await leftovers(tenantId), PROVISIONED);
    const all = await events(tenantId);
    assert.deepEqual(
      all.map((e) => e.version),
      all.map((_, i) => i + 1),
      'one event per version: no transition written twice',
    );
    assert.deepEqual(
      all.filter((e) => e.runId === failedRunId).map((e) => e.type),
      COMPENSATED_AT_QUOTAS,
      'the failed run wrote nothing more',
    );
    return all.filter((e) => e.runId === newRunId).map((e) => e.type);
  };

  it('--type FirstWorkflowTask after the fix: the saga runs again from the start and completes', async () => {
    const { input, failedRunId } = await failAtQuotas();
    temporalCli([
      'workflow',
      'reset',
      '--workflow-id',
      WORKFLOW_IDS.onboarding(input.tenantId),
      '--type',
      'FirstWorkflowTask',
      '--reason',
      'fixed the apply-quotas bug',
    ]);
    const newRun = await afterReset(input.tenantId, failedRunId);
    assert.deepEqual(newRun, [
      'TenantReopened',
      'TenantResourceProvisioned',
      'TenantResourceProvisioned',
      'TenantMemberAdded',
      'TenantQuotasApplied',
      'TenantActivated',
      'TenantWelcomeSent',
    ]);
  });

  it('--event-id in the middle (after the NATS stream step): later steps re-run, ensure-provisioned restores what compensation removed', async () => {
    const { input, failedRunId } = await failAtQuotas();
    const history =
      (await worker.client.workflow.getHandle(WORKFLOW_IDS.onboarding(input.tenantId), failedRunId).fetchHistory())
        .events ?? [];
    const scheduled = history.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createTenantNatsResources',
    );
    const completed = history.find(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        Number(e.activityTaskCompletedEventAttributes.scheduledEventId) === Number(scheduled?.eventId),
    );
    const resetPoint = history.find(
      (e) => e.workflowTaskCompletedEventAttributes && Number(e.eventId) > Number(completed?.eventId),
    );
    assert.ok(resetPoint, 'the workflow task that followed the NATS stream step');
    temporalCli([
      'workflow',
      'reset',
      '--workflow-id',
      WORKFLOW_IDS.onboarding(input.tenantId),
      '--run-id',
      failedRunId,
      '--event-id',
      String(resetPoint.eventId),
      '--reason',
      'fixed the apply-quotas bug',
    ]);
    const newRun = await afterReset(input.tenantId, failedRunId);
    // add-owner and apply-quotas run again; reserve, schema and stream (kept from the failed run's
    // history, but undone by its compensations) come back in ensure-provisioned.
    assert.deepEqual(newRun, [
      'TenantMemberAdded',
      'TenantQuotasApplied',
      'TenantReopened',
      'TenantResourceProvisioned',
      'TenantResourceProvisioned',
      'TenantActivated',
      'TenantWelcomeSent',
    ]);
  });
});

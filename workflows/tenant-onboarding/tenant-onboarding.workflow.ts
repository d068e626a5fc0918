// Tenant onboarding saga (id `tenant-onboarding/<tenantId>`, task queue `tenant-sagas`).
// Each step's compensation is registered before the step runs and tolerates "nothing to undo".
// On failure or cancellation the compensations run in reverse in a non-cancellable scope, with
// retries; a compensation that still fails marks the tenant `failed` and fails the workflow with
// that reason. Activation is the pivot: after it the saga only moves forward.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { OnboardingActivities, StepInput } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import {
  SAGA_STATUS,
  SAGA_STEP,
  TENANT_ID,
  TENANT_SLUG,
  type SagaStatus,
} from '../../contracts/saga-search-attributes.ts';

export const onboardingWorkflowId = (tenantId: string) => `tenant-onboarding/${tenantId}`;

export interface OnboardingInput {
  tenantId: string;
  slug: string;
  name: string;
  plan: 'free' | 'pro' | 'enterprise';
  ownerUserId: string;
  /** How long an enterprise onboarding waits for approval before it compensates. */
  approvalTimeout?: Duration;
  /**
   * Upsert the typed search attributes (default true). Only for servers that cannot register
   * custom attributes — the Java time-skipping test server has no operator API for it.
   */
  searchAttributes?: boolean;
}

export type StepState = 'pending' | 'running' | 'done' | 'compensating' | 'compensated' | 'compensation-failed';

export interface OnboardingStatus {
  sagaStatus: SagaStatus;
  currentStep: string | null;
  steps: Record<string, StepState>;
  failure: string | null;
}

export const onboardingStatusQuery = defineQuery<OnboardingStatus>('onboardingStatus');
export const approveSignal = defineSignal<[{ approvedBy: string }]>('approve');

const retrying = { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' } as const;
/** Activities whose calls carry `summary`, the line the Web UI shows for them. */
const described = (summary: string, maximumAttempts?: number) =>
  proxyActivities<OnboardingActivities>({
    startToCloseTimeout: '30 seconds',
    retry: maximumAttempts ? { ...retrying, maximumAttempts } : retrying, // no limit: past the pivot
    summary,
  });

export async function tenantOnboarding(input: OnboardingInput): Promise<OnboardingStatus> {
  const stepInput: StepInput = {
    tenantId: input.tenantId,
    slug: input.slug,
    metadata: { workflowId: workflowInfo().workflowId, workflowRunId: workflowInfo().runId, actor: input.ownerUserId },
  };
  const status: OnboardingStatus = { sagaStatus: 'running', currentStep: null, steps: {}, failure: null };
  setHandler(onboardingStatusQuery, () => status);
  let approvedBy: string | undefined;
  setHandler(approveSignal, ({ approvedBy: by }) => {
    approvedBy = by;
  });
  const visible = input.searchAttributes ?? true;
  const report = (sagaStatus: SagaStatus, step: string | null) => {
    status.sagaStatus = sagaStatus;
    status.currentStep = step;
    if (visible) {
      upsertSearchAttributes([
        { key: SAGA_STATUS, value: sagaStatus },
        { key: SAGA_STEP, value: step ?? sagaStatus },
      ]);
    }
    setCurrentDetails(
      `**${sagaStatus}**${step ? ` — step \`${step}\`` : ''}\n\n${Object.entries(status.steps)
        .map(([s, st]) => `- ${s}: ${st}`)
        .join('\n')}`,
    );
  };
  if (visible) {
    upsertSearchAttributes([
      { key: TENANT_ID, value: input.tenantId },
      { key: TENANT_SLUG, value: input.slug },
    ]);
  }

  const compensations: { step: string; run: () => Promise<unknown> }[] = [];
  const run = async (step: string, work: () => Promise<unknown>, compensation?: () => Promise<unknown>) => {
    if (compensation) compensations.unshift({ step, run: compensation }); // before the step: a step that half-ran is undone too
    status.steps[step] = 'running';
    report('running', step);
    await work();
    status.steps[step] = 'done';
  };

  try {
    await run(
      'reserve',
      () => described('Reserve the tenant id and its slug', 5).reserveTenant({ ...stepInput, tenant: input }),
      () => described('Undo: release the tenant and give its slug back', 5).releaseTenant(stepInput),
    );
    await run(
      'create-schema',
      () => described("Create the tenant's Postgres schema", 5).createTenantSchema(stepInput),
      () => described("Undo: drop the tenant's Postgres schema", 5).dropTenantSchema(stepInput),
    );
    await run(
      'create-nats-resources',
      () => described("Create the tenant's NATS JetStream stream", 5).createTenantNatsResources(stepInput),
      () => described("Undo: delete the tenant's NATS stream", 5).deleteTenantNatsResources(stepInput),
    );
    await run(
      'add-owner',
      () => described('Make the creator the owner', 5).addOwnerMembership(stepInput),
      () => described("Undo: remove the owner's membership", 5).removeOwnerMembership(stepInput),
    );
    await run(
      'apply-quotas',
      () => described("Apply the plan's quotas", 5).applyPlanQuotas(stepInput),
      () => described("Undo: revert the plan's quotas", 5).revertPlanQuotas(stepInput),
    );
    if (input.plan === 'enterprise') {
      await described('Mark the tenant as awaiting approval', 5).markAwaitingApproval(stepInput);
      status.steps['await-approval'] = 'running';
      report('waiting-approval', 'await-approval');
      if (!(await condition(() => approvedBy !== undefined, input.approvalTimeout ?? '7 days'))) {
        throw ApplicationFailure.nonRetryable(
          `no approval within ${String(input.approvalTimeout ?? '7 days')}`,
          'APPROVAL_TIMEOUT',
        );
      }
      status.steps['await-approval'] = 'done';
    }
    // Added after v1 of this saga, behind a patch so runs started before it replay unchanged
    // (docs/versioning.md): every resource is checked again right before the pivot, so a run resumed
    // mid-way by `temporal workflow reset` still activates a complete tenant (docs/reset-runbook.md).
    if (patched('ensure-provisioned-before-pivot')) {
      await run('ensure-provisioned', () =>
        described('Re-check every provisioned resource before the pivot', 5).ensureProvisioned({
          ...stepInput,
          tenant: input,
        }),
      );
    }
  } catch (error) {
    status.failure = describe(error);
    await compensate(compensations, status, report, stepInput);
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.nonRetryable(
      `onboarding of ${input.slug} failed (${status.failure}); compensated`,
      'ONBOARDING_COMPENSATED',
    );
  }

  // The pivot: from here on the saga only moves forward, retrying until it gets through — even
  // past a failure the activity calls non-retryable (there is nothing left to compensate to).
  await run('activate', () =>
    untilItSucceeds(() => described('Activate the tenant (the pivot)').activateTenant(stepInput), status),
  );
  await run('send-welcome', () =>
    untilItSucceeds(() => described('Send the welcome notification').sendWelcome(stepInput), status),
  );
  report('completed', null);
  return status;
}

async function untilItSucceeds(call: () => Promise<unknown>, status: OnboardingStatus): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return;
    } catch (error) {
      if (isCancellation(error)) throw error;
      status.failure = `attempt ${attempt}: ${describe(error)} (retrying; past the pivot the saga only moves forward)`;
      await sleep(Math.min(60_000, 1_000 * 2 ** (attempt - 1)));
    }
  }
}

async function compensate(
  compensations: { step: string; run: () => Promise<unknown> }[],
  status: OnboardingStatus,
  report: (s: SagaStatus, step: string | null) => void,
  stepInput: StepInput,
): Promise<void> {
  // Not cancellable: a cancelled saga must still undo what it did.
  await CancellationScope.nonCancellable(async () => {
    const failed: string[] = [];
    for (const { step, run } of compensations) {
      status.steps[step] = 'compensating';
      report('compensating', step);
      try {
        await run();
        status.steps[step] = 'compensated';
      } catch (error) {
        status.steps[step] = 'compensation-failed';
        failed.push(`${step}: ${describe(error)}`);
      }
    }
    if (failed.length > 0) {
      const reason = `compensation failed at ${failed.join('; ')}`;
      status.failure = `${status.failure ?? ''}; ${reason}`;
      await described('Mark the tenant failed: a compensation could not complete', 5).markTenantFailed({
        ...stepInput,
        reason,
      });
      report('failed', null);
      throw ApplicationFailure.nonRetryable(
        `onboarding of ${stepInput.slug} failed and could not be fully undone: ${reason}`,
        'COMPENSATION_FAILED',
      );
    }
    report('compensated', null);
  });
}

function describe(error: unknown): string {
  if (error instanceof ApplicationFailure) return `${error.type ?? 'Error'}: ${error.message}`;
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${cause.name}: ${cause.message}` : error.message;
  }
  return String(error);
}

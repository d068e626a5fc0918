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
  metricMeter,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { ACTIVITY_OPTIONS, DEFAULT_RETRY_HORIZON_MS } from '../retry-policy.ts';
import type { OnboardingActivities, StepInput } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import type { Plan } from '../../contracts/tenant.contracts.ts';
import {
  SAGA_STATUS,
  SAGA_STEP,
  TENANT_ID,
  TENANT_SLUG,
  type COMPENSATION_STEPS,
  type CompensationStep,
  type OnboardingStep,
  type SagaStatus,
} from '../../contracts/workflow-names.ts';

export interface OnboardingInput {
  tenantId: string;
  slug: string;
  name: string;
  plan: Plan;
  ownerUserId: string;
  /** How long an enterprise onboarding waits for approval before it compensates. */
  approvalTimeout?: Duration;
  /**
   * How long (ms) a step before the pivot waits out an unavailable Postgres, NATS or Temporal before
   * the saga compensates (default DEFAULT_RETRY_HORIZON_MS, 1 hour). Business failures compensate at once.
   */
  retryHorizonMs?: number;
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

/** The statuses a saga ends in, each counted once in `saga_outcomes`. */
const ENDED: readonly SagaStatus[] = ['completed', 'compensated', 'failed'];
const sagaOutcomes = () =>
  metricMeter.createCounter('saga_outcomes', 'sagas', 'Sagas that ended, by workflow and outcome');

/** Compensations and the steps from the pivot on: an outage is waited out however long it lasts. */
const untilDone = proxyActivities<OnboardingActivities>(ACTIVITY_OPTIONS.untilDone);

/** The line the Web UI shows for each step's activity. */
const SUMMARIES: Record<OnboardingStep | CompensationStep | 'mark-failed', string> = {
  reserve: 'Reserve the tenant id and its slug',
  'undo-reserve': 'Undo: release the tenant and give its slug back',
  'create-schema': "Create the tenant's Postgres schema",
  'undo-create-schema': "Undo: drop the tenant's Postgres schema",
  'create-nats-resources': "Create the tenant's NATS JetStream stream",
  'undo-create-nats-resources': "Undo: delete the tenant's NATS stream",
  'add-owner': 'Make the creator the owner',
  'undo-add-owner': "Undo: remove the owner's membership",
  'grant-owner': 'Make the creator the owner in OpenFGA (their token can now use the tenant)',
  'undo-grant-owner': "Undo: revoke the owner's tuple in OpenFGA",
  'apply-quotas': "Apply the plan's quotas",
  'undo-apply-quotas': "Undo: revert the plan's quotas",
  'await-approval': 'Mark the tenant as awaiting approval',
  'ensure-provisioned': 'Re-check every provisioned resource before the pivot',
  activate: 'Activate the tenant (the pivot)',
  'send-welcome': 'Send the welcome notification',
  'mark-failed': 'Mark the tenant failed: a compensation could not complete',
};

type Compensable = keyof typeof COMPENSATION_STEPS;
interface Compensation {
  step: Compensable;
  run: () => Promise<unknown>;
}

export async function tenantOnboarding(input: OnboardingInput): Promise<OnboardingStatus> {
  const { workflowId, runId } = workflowInfo();
  const metadata = { workflowId, workflowRunId: runId, actor: input.ownerUserId };
  const at = (step: StepInput['step']): StepInput => ({ tenantId: input.tenantId, slug: input.slug, metadata, step });
  const summary = (step: keyof typeof SUMMARIES) => ({ summary: SUMMARIES[step] });
  /** The steps before the pivot: their failure compensates the saga (runtime/failures.ts says which failures are final). */
  const provisioning = proxyActivities<OnboardingActivities>(
    ACTIVITY_OPTIONS.sagaStep(input.retryHorizonMs ?? DEFAULT_RETRY_HORIZON_MS),
  );

  const status: OnboardingStatus = { sagaStatus: 'running', currentStep: null, steps: {}, failure: null };
  setHandler(onboardingStatusQuery, () => status);
  let approvedBy: string | undefined;
  setHandler(approveSignal, ({ approvedBy: by }) => {
    approvedBy = by;
  });
  const visible = input.searchAttributes ?? true;
  // v3: search attributes are upserted when the saga's status changes (SagaStep = the step it changed
  // at, e.g. the one that failed), not at every step; the live step is in the query and the details.
  const onStatusChange = patched('saga-attributes-on-status-change');
  let upserted: SagaStatus | undefined;
  const report = (sagaStatus: SagaStatus, step: string | null) => {
    status.sagaStatus = sagaStatus;
    status.currentStep = step;
    // Counted by the Temporal core (never during a replay), on the saga worker's /metrics.
    if (ENDED.includes(sagaStatus)) sagaOutcomes().add(1, { workflow: 'tenantOnboarding', outcome: sagaStatus });
    if (visible && (!onStatusChange || sagaStatus !== upserted)) {
      upserted = sagaStatus;
      upsertSearchAttributes([
        { key: SAGA_STATUS, value: sagaStatus },
        { key: SAGA_STEP, value: step ?? sagaStatus },
      ]);
    }
    const steps = Object.entries(status.steps).map(([name, state]) => `- ${name}: ${state}`);
    setCurrentDetails(`**${sagaStatus}**${step ? ` — step \`${step}\`` : ''}\n\n${steps.join('\n')}`);
  };
  if (visible) {
    upsertSearchAttributes([
      { key: TENANT_ID, value: input.tenantId },
      { key: TENANT_SLUG, value: input.slug },
    ]);
  }

  const compensations: Compensation[] = [];
  const run = async (step: OnboardingStep, work: () => Promise<unknown>, undo?: Compensation['run']) => {
    // Registered before the step runs: a step that half-ran is undone too.
    if (undo) compensations.unshift({ step: step as Compensable, run: undo });
    status.steps[step] = 'running';
    report('running', step);
    await work();
    status.steps[step] = 'done';
  };
  const tenant = { tenant: input };

  try {
    await run(
      'reserve',
      () => provisioning.reserveTenant.executeWithOptions(summary('reserve'), [{ ...at('reserve'), ...tenant }]),
      () => untilDone.releaseTenant.executeWithOptions(summary('undo-reserve'), [at('undo-reserve')]),
    );
    await run(
      'create-schema',
      () => provisioning.createTenantSchema.executeWithOptions(summary('create-schema'), [at('create-schema')]),
      () => untilDone.dropTenantSchema.executeWithOptions(summary('undo-create-schema'), [at('undo-create-schema')]),
    );
    await run(
      'create-nats-resources',
      () =>
        provisioning.createTenantNatsResources.executeWithOptions(summary('create-nats-resources'), [
          at('create-nats-resources'),
        ]),
      () =>
        untilDone.deleteTenantNatsResources.executeWithOptions(summary('undo-create-nats-resources'), [
          at('undo-create-nats-resources'),
        ]),
    );
    await run(
      'add-owner',
      () => provisioning.addOwnerMembership.executeWithOptions(summary('add-owner'), [at('add-owner')]),
      () => untilDone.removeOwnerMembership.executeWithOptions(summary('undo-add-owner'), [at('undo-add-owner')]),
    );
    // Added with OpenFGA (issue 16), behind a patch so runs started before it replay unchanged.
    if (patched('grant-owner-tuple')) {
      await run(
        'grant-owner',
        () => provisioning.grantOwner.executeWithOptions(summary('grant-owner'), [at('grant-owner')]),
        () => untilDone.revokeOwner.executeWithOptions(summary('undo-grant-owner'), [at('undo-grant-owner')]),
      );
    }
    await run(
      'apply-quotas',
      () => provisioning.applyPlanQuotas.executeWithOptions(summary('apply-quotas'), [at('apply-quotas')]),
      () => untilDone.revertPlanQuotas.executeWithOptions(summary('undo-apply-quotas'), [at('undo-apply-quotas')]),
    );
    if (input.plan === 'enterprise') {
      await provisioning.markAwaitingApproval.executeWithOptions(summary('await-approval'), [at('await-approval')]);
      status.steps['await-approval'] = 'running';
      report('waiting-approval', 'await-approval');
      if (!(await condition(() => approvedBy !== undefined, input.approvalTimeout ?? '7 days'))) {
        const waited = String(input.approvalTimeout ?? '7 days');
        throw ApplicationFailure.nonRetryable(`no approval within ${waited}`, 'APPROVAL_TIMEOUT');
      }
      status.steps['await-approval'] = 'done';
    }
    // Added after v1 of this saga, behind a patch so runs started before it replay unchanged
    // (docs/versioning.md): every resource is checked again right before the pivot, so a run resumed
    // mid-way by `temporal workflow reset` still activates a complete tenant (docs/reset-runbook.md).
    if (patched('ensure-provisioned-before-pivot')) {
      await run('ensure-provisioned', () =>
        provisioning.ensureProvisioned.executeWithOptions(summary('ensure-provisioned'), [
          { ...at('ensure-provisioned'), ...tenant },
        ]),
      );
    }
  } catch (error) {
    status.failure = describe(error);
    await compensate(compensations, status, report, input.slug, (reason) =>
      untilDone.markTenantFailed.executeWithOptions(summary('mark-failed'), [{ ...at('undo-reserve'), reason }]),
    );
    if (isCancellation(error)) throw error;
    throw ApplicationFailure.nonRetryable(
      `onboarding of ${input.slug} failed (${status.failure}); compensated`,
      'ONBOARDING_COMPENSATED',
    );
  }

  // The pivot: from here on the saga only moves forward, retrying until it gets through — even
  // past a failure the activity calls non-retryable (there is nothing left to compensate to), and
  // past a cancellation (DELETE of a tenant that is being activated): the tenant ends active.
  await CancellationScope.nonCancellable(async () => {
    await run('activate', () =>
      untilItSucceeds(() => untilDone.activateTenant.executeWithOptions(summary('activate'), [at('activate')]), status),
    );
    await run('send-welcome', () =>
      untilItSucceeds(
        () => untilDone.sendWelcome.executeWithOptions(summary('send-welcome'), [at('send-welcome')]),
        status,
      ),
    );
  });
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
  compensations: Compensation[],
  status: OnboardingStatus,
  report: (s: SagaStatus, step: string | null) => void,
  slug: string,
  markFailed: (reason: string) => Promise<unknown>,
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
      await markFailed(reason);
      report('failed', null);
      throw ApplicationFailure.nonRetryable(
        `onboarding of ${slug} failed and could not be fully undone: ${reason}`,
        'COMPENSATION_FAILED',
      );
    }
    report('compensated', null);
  });
}

/** A failure as `TYPE: message` (an activity's failure by its cause, whose type is the error code). */
function describe(error: unknown): string {
  if (error instanceof ApplicationFailure) return `${error.type ?? 'Error'}: ${error.message}`;
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) return describe(cause);
    return cause instanceof Error ? `${cause.name}: ${cause.message}` : error.message;
  }
  return String(error);
}

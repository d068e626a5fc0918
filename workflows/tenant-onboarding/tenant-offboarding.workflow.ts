// Tenant offboarding saga (id `tenant-offboarding/<tenantId>`, task queue `tenant-sagas`):
// deactivate (writes stop: the counter service refuses tenants that are not active), remove the
// tenant's resources, revoke every tuple on it in OpenFGA (no one can reach it any more), archive. Forward only: every step is idempotent by state and retried until
// it gets through, so the saga resumes after any failure, worker crash or reset.
import {
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OnboardingActivities, StepInput } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import {
  OFFBOARDING_STEPS,
  SAGA_STATUS,
  SAGA_STEP,
  TENANT_ID,
  type OffboardingStep,
  type SagaStatus,
} from '../../contracts/workflow-names.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

export interface OffboardingInput {
  tenantId: string;
  slug: string;
  requestedBy: string;
  searchAttributes?: boolean;
}

export interface OffboardingStatus {
  sagaStatus: SagaStatus;
  currentStep: string | null;
  done: string[];
}

export const offboardingStatusQuery = defineQuery<OffboardingStatus>('offboardingStatus');

/** Forward only: retried without limit until each step gets through. */
const act = proxyActivities<OnboardingActivities>(ACTIVITY_OPTIONS.untilDone);

/** The activity behind each step; the resource removals are the onboarding's own undo activities. */
const ACTIVITY: Record<OffboardingStep, (input: StepInput) => Promise<unknown>> = {
  deactivate: act.deactivateTenant,
  'remove-nats-resources': act.deleteTenantNatsResources,
  'drop-schema': act.dropTenantSchema,
  'revert-quotas': act.revertPlanQuotas,
  'remove-owner': act.removeOwnerMembership,
  'revoke-access': act.revokeAllAccess,
  archive: act.archiveTenant,
};

export async function tenantOffboarding(input: OffboardingInput): Promise<OffboardingStatus> {
  const { workflowId, runId } = workflowInfo();
  const metadata = { workflowId, workflowRunId: runId, actor: input.requestedBy };
  const status: OffboardingStatus = { sagaStatus: 'running', currentStep: null, done: [] };
  setHandler(offboardingStatusQuery, () => status);
  const visible = input.searchAttributes ?? true;
  const report = (sagaStatus: SagaStatus, step: string) => {
    if (visible) {
      upsertSearchAttributes([
        { key: SAGA_STATUS, value: sagaStatus },
        { key: SAGA_STEP, value: step },
      ]);
    }
  };
  if (visible) upsertSearchAttributes([{ key: TENANT_ID, value: input.tenantId }]);
  for (const step of OFFBOARDING_STEPS) {
    // Added with OpenFGA (issue 16), behind a patch so runs started before it replay unchanged.
    if (step === 'revoke-access' && !patched('revoke-access-tuples')) continue;
    status.currentStep = step;
    report('running', step);
    await ACTIVITY[step]({ tenantId: input.tenantId, slug: input.slug, metadata, step });
    status.done.push(step);
  }
  status.sagaStatus = 'completed';
  status.currentStep = null;
  report('completed', 'completed');
  return status;
}

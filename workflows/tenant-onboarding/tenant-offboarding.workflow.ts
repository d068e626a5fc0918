// Tenant offboarding saga (id `tenant-offboarding/<tenantId>`, task queue `tenant-sagas`):
// deactivate (writes stop: the counter service refuses tenants that are not active), remove the
// tenant's resources, archive. Forward only: every step is idempotent by state and retried until
// it gets through, so the saga resumes after any failure, worker crash or reset.
import { defineQuery, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OnboardingActivities, StepInput } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import { SAGA_STATUS, SAGA_STEP, TENANT_ID, type SagaStatus } from '../../contracts/saga-search-attributes.ts';

export const offboardingWorkflowId = (tenantId: string) => `tenant-offboarding/${tenantId}`;

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

const act = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function tenantOffboarding(input: OffboardingInput): Promise<OffboardingStatus> {
  const stepInput: StepInput = {
    tenantId: input.tenantId,
    slug: input.slug,
    metadata: { workflowId: workflowInfo().workflowId, workflowRunId: workflowInfo().runId, actor: input.requestedBy },
  };
  const status: OffboardingStatus = { sagaStatus: 'running', currentStep: null, done: [] };
  setHandler(offboardingStatusQuery, () => status);
  const visible = input.searchAttributes ?? true;
  if (visible) upsertSearchAttributes([{ key: TENANT_ID, value: input.tenantId }]);
  const steps: [string, () => Promise<unknown>][] = [
    ['deactivate', () => act.deactivateTenant(stepInput)],
    ['remove-nats-resources', () => act.deleteTenantNatsResources(stepInput)],
    ['drop-schema', () => act.dropTenantSchema(stepInput)],
    ['revert-quotas', () => act.revertPlanQuotas(stepInput)],
    ['remove-owner', () => act.removeOwnerMembership(stepInput)],
    ['archive', () => act.archiveTenant(stepInput)],
  ];
  for (const [name, run] of steps) {
    status.currentStep = name;
    if (visible)
      upsertSearchAttributes([
        { key: SAGA_STATUS, value: 'running' },
        { key: SAGA_STEP, value: name },
      ]);
    await run();
    status.done.push(name);
  }
  status.sagaStatus = 'completed';
  status.currentStep = null;
  if (visible)
    upsertSearchAttributes([
      { key: SAGA_STATUS, value: 'completed' },
      { key: SAGA_STEP, value: 'completed' },
    ]);
  return status;
}

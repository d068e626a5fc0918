// A deliberately wrong change to the onboarding saga, kept only for the replay suite: it creates the
// tenant's NATS stream before its Postgres schema, without `patched()`. Up to that point it issues
// the same commands as the real saga, so replaying a real onboarding history against it reaches the
// reordered step and must fail with a determinism error.
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OnboardingActivities, StepInput } from '../../../activities/tenant-onboarding/onboarding.activities.ts';
import { SAGA_STATUS, SAGA_STEP, TENANT_ID, TENANT_SLUG } from '../../../contracts/workflow-names.ts';
import type { OnboardingInput } from '../../../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';

const act = proxyActivities<OnboardingActivities>({ startToCloseTimeout: '30 seconds' });

export async function tenantOnboarding(input: OnboardingInput): Promise<void> {
  const metadata = {
    workflowId: workflowInfo().workflowId,
    workflowRunId: workflowInfo().runId,
    actor: input.ownerUserId,
  };
  const at = (step: StepInput['step']): StepInput => ({ tenantId: input.tenantId, slug: input.slug, metadata, step });
  const visible = input.searchAttributes ?? true;
  const step = (name: string) => {
    if (visible)
      upsertSearchAttributes([
        { key: SAGA_STATUS, value: 'running' },
        { key: SAGA_STEP, value: name },
      ]);
  };
  if (visible)
    upsertSearchAttributes([
      { key: TENANT_ID, value: input.tenantId },
      { key: TENANT_SLUG, value: input.slug },
    ]);
  step('reserve');
  await act.reserveTenant({ ...at('reserve'), tenant: input });
  step('create-nats-resources'); // the real saga creates the schema first
  await act.createTenantNatsResources(at('create-nats-resources'));
  step('create-schema');
  await act.createTenantSchema(at('create-schema'));
}

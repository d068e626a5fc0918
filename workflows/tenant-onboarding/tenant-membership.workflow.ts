// Tenant membership (id `tenant-membership/<tenantId>/<change>`, task queue `tenant-sagas`): gives a
// user a role in a tenant, or removes it. The membership row and its event come first (the tenant
// service refuses the owner and a tenant that is not active), then the tuples in OpenFGA; access
// starts or ends when this workflow completes. Both steps are idempotent by state, so a retried or
// reset run converges. POST and DELETE /v1/tenants/{id}/members wait for its result.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MemberRole } from '../../contracts/roles.ts';
import type { OnboardingActivities } from '../../activities/tenant-onboarding/onboarding.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

export interface MembershipChange {
  tenantId: string;
  userId: string;
  /** The role to give, or null to remove the user's role. */
  role: MemberRole | null;
  requestedBy: string;
}

export interface MembershipResult {
  tenantId: string;
  userId: string;
  role: MemberRole | null;
}

const act = proxyActivities<OnboardingActivities>(ACTIVITY_OPTIONS.untilDone);

export async function tenantMembership(change: MembershipChange): Promise<MembershipResult> {
  const { workflowId, runId } = workflowInfo();
  const input = {
    tenantId: change.tenantId,
    userId: change.userId,
    role: change.role,
    metadata: { workflowId, workflowRunId: runId, actor: change.requestedBy },
  };
  await act.recordMembership(input);
  await act.syncMembershipTuples(input);
  return { tenantId: change.tenantId, userId: change.userId, role: change.role };
}

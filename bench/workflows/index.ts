// Workflow bundle of the saga benchmark's worker: the real onboarding saga, and its baseline — a
// workflow that calls as many activities as a free-plan onboarding does, each doing nothing.
import { proxyActivities } from '@temporalio/workflow';
import type { NoopActivities } from '../noop.activities.ts';

export { tenantOnboarding } from '../../workflows/tenant-onboarding/tenant-onboarding.workflow.ts';

const { noop } = proxyActivities<NoopActivities>({ startToCloseTimeout: '30 seconds' });

export async function noopSaga(activities: number): Promise<number> {
  for (let i = 0; i < activities; i++) await noop(i);
  return activities;
}

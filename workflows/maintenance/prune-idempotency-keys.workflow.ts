// Run hourly by the schedule `maintenance/prune-idempotency-keys` (see saga-worker/maintenance-schedule.ts).
import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../../activities/maintenance/maintenance.activities.ts';

const { pruneExpiredIdempotencyKeys } = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', maximumAttempts: 5 },
});

/** Deletes expired idempotency keys; returns how many went. */
export async function pruneIdempotencyKeysWorkflow(): Promise<number> {
  return pruneExpiredIdempotencyKeys();
}

// Run hourly by the schedule `maintenance/prune-idempotency-keys` (see saga-worker/maintenance-schedule.ts).
import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from '../../activities/maintenance/maintenance.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

const { pruneExpiredIdempotencyKeys } = proxyActivities<MaintenanceActivities>(ACTIVITY_OPTIONS.maintenance);

/** Deletes expired idempotency keys; returns how many went. */
export async function pruneIdempotencyKeysWorkflow(): Promise<number> {
  return pruneExpiredIdempotencyKeys();
}

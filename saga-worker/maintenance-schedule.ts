// The Temporal schedule that prunes expired idempotency keys every hour (services/kernel/idempotency.ts). Created when
// the saga worker starts, if it does not exist yet; visible and pausable in the Web UI.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { pruneIdempotencyKeysWorkflow } from '../workflows/maintenance/prune-idempotency-keys.workflow.ts';

export const PRUNE_SCHEDULE_ID = 'maintenance/prune-idempotency-keys';

export async function ensureMaintenanceSchedule(client: Client, taskQueue: string): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: PRUNE_SCHEDULE_ID,
      spec: { intervals: [{ every: '1 hour' }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: pruneIdempotencyKeysWorkflow,
        workflowId: PRUNE_SCHEDULE_ID,
        taskQueue,
      },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}

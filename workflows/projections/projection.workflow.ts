// One long-running workflow per projection (id `projection/<name>`, task queue `projector`).
import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ProjectorActivities } from '../../projector/projector.activities.ts';

export interface ProjectionProgress {
  applied: number;
  unchanged: number;
  parked: number;
  batches: number;
  lastSequence: number | null;
}

export interface ProjectionInput {
  projection: string;
  batchSize?: number;
  /** Batches per run before continue-as-new (each batch adds ~6 history events). */
  batchesPerRun?: number;
  progress?: ProjectionProgress;
}

export const projectionProgressQuery = defineQuery<ProjectionProgress>('projectionProgress');

const { projectBatch } = proxyActivities<ProjectorActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});

export async function projection(input: ProjectionInput): Promise<never> {
  const batchSize = input.batchSize ?? 200;
  const batchesPerRun = input.batchesPerRun ?? 500;
  const progress: ProjectionProgress = input.progress ?? {
    applied: 0,
    unchanged: 0,
    parked: 0,
    batches: 0,
    lastSequence: null,
  };
  setHandler(projectionProgressQuery, () => progress);
  for (let batch = 0; batch < batchesPerRun && !workflowInfo().continueAsNewSuggested; batch++) {
    const result = await projectBatch({ projection: input.projection, batchSize, maxWaitMs: 5_000 });
    progress.applied += result.applied;
    progress.unchanged += result.unchanged;
    progress.parked += result.parked;
    progress.batches += 1;
    progress.lastSequence = result.lastSequence ?? progress.lastSequence;
  }
  return continueAsNew<typeof projection>({ projection: input.projection, batchSize, batchesPerRun, progress });
}

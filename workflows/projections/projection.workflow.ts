// One long-running workflow per projection (id `projection/<name>`, task queue `projector`). Each
// activity is a loop that consumes and applies for `loopMs` (projector/projector.activities.ts);
// the workflow records its totals, starts the next, and continues as new after `loopsPerRun` loops.
import { continueAsNew, defineQuery, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ProjectorActivities } from '../../projector/projector.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

export interface ProjectionProgress {
  applied: number;
  unchanged: number;
  parked: number;
  /** Batches applied over the projection's life (each loop applies many). */
  batches: number;
  lastSequence: number | null;
}

export interface ProjectionInput {
  projection: string;
  batchSize?: number;
  /** How long each loop activity runs before it reports back. */
  loopMs?: number;
  /** Loops per run before continue-as-new (each adds ~6 history events). */
  loopsPerRun?: number;
  progress?: ProjectionProgress;
  /** @deprecated the input of runs started before the loop; read only to carry them over. */
  batchesPerRun?: number;
}

export const projectionProgressQuery = defineQuery<ProjectionProgress>('projectionProgress');

const { projectLoop } = proxyActivities<ProjectorActivities>(ACTIVITY_OPTIONS.pipelineLoop(30));

// Histories recorded before the loop scheduled one `projectBatch` per batch, with these options.
const { projectBatch } = proxyActivities<ProjectorActivities>(ACTIVITY_OPTIONS.pipelineBatch(30));

export async function projection(input: ProjectionInput): Promise<never> {
  const batchSize = input.batchSize ?? 200;
  const loopMs = input.loopMs ?? 60_000;
  const loopsPerRun = input.loopsPerRun ?? input.batchesPerRun ?? 500;
  const progress: ProjectionProgress = input.progress ?? {
    applied: 0,
    unchanged: 0,
    parked: 0,
    batches: 0,
    lastSequence: null,
  };
  setHandler(projectionProgressQuery, () => progress);
  for (let loop = 0; loop < loopsPerRun && !workflowInfo().continueAsNewSuggested; loop++) {
    const result = patched('pipeline-loop')
      ? await projectLoop({ projection: input.projection, batchSize, loopMs })
      : { ...(await projectBatch({ projection: input.projection, batchSize, maxWaitMs: 5_000 })), batches: 1 };
    progress.applied += result.applied;
    progress.unchanged += result.unchanged;
    progress.parked += result.parked;
    progress.batches += result.batches;
    progress.lastSequence = result.lastSequence ?? progress.lastSequence;
  }
  return continueAsNew<typeof projection>({ projection: input.projection, batchSize, loopMs, loopsPerRun, progress });
}

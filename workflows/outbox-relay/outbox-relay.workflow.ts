// The outbox relay as a long-running workflow (one instance, id `outbox-relay`, task queue
// `outbox-relay`): its retries, checkpoint progress and resets are visible like any saga's. Each
// activity is a loop that publishes for `loopMs` (relay/relay.activities.ts); the workflow records
// its totals and starts the next, and continues as new after `loopsPerRun` loops.
import { continueAsNew, defineQuery, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RelayActivities, RelayBatchResult } from '../../relay/relay.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

export interface RelayProgress {
  published: number;
  duplicates: number;
  /** Batches published over the relay's life (each loop publishes many). */
  batches: number;
  checkpoint: RelayBatchResult['checkpoint'] | null;
}

export interface RelayInput {
  batchSize?: number;
  /** How long each loop activity runs before it reports back. */
  loopMs?: number;
  /** Loops per run before continue-as-new (each adds ~6 history events). */
  loopsPerRun?: number;
  /** Carried across continue-as-new so the totals cover the relay's whole life. */
  progress?: RelayProgress;
  /** @deprecated the input of runs started before the loop; read only to carry them over. */
  idleWaitMs?: number;
  /** @deprecated see `idleWaitMs`. */
  batchesPerRun?: number;
}

export const relayProgressQuery = defineQuery<RelayProgress>('relayProgress');

const { relayLoop } = proxyActivities<RelayActivities>(ACTIVITY_OPTIONS.pipelineLoop(20));

// Histories recorded before the loop scheduled one `relayBatch` per batch, with these options.
const { relayBatch } = proxyActivities<RelayActivities>(ACTIVITY_OPTIONS.pipelineBatch(20));

export async function outboxRelay(input: RelayInput = {}): Promise<never> {
  const batchSize = input.batchSize ?? 500;
  const loopMs = input.loopMs ?? 60_000;
  const loopsPerRun = input.loopsPerRun ?? input.batchesPerRun ?? 500;
  const progress: RelayProgress = input.progress ?? { published: 0, duplicates: 0, batches: 0, checkpoint: null };
  setHandler(relayProgressQuery, () => progress);
  for (let loop = 0; loop < loopsPerRun && !workflowInfo().continueAsNewSuggested; loop++) {
    const result = patched('pipeline-loop')
      ? await relayLoop({ batchSize, loopMs })
      : { ...(await relayBatch({ batchSize, idleWaitMs: input.idleWaitMs ?? 10_000 })), batches: 1 };
    progress.published += result.published;
    progress.duplicates += result.duplicates;
    progress.batches += result.batches;
    progress.checkpoint = result.checkpoint;
  }
  return continueAsNew<typeof outboxRelay>({ batchSize, loopMs, loopsPerRun, progress });
}

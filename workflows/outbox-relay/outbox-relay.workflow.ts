// The outbox relay as a long-running workflow (one instance, id `outbox-relay`, task queue
// `outbox-relay`): its retries, checkpoint progress and resets are visible like any saga's.
import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { RelayActivities, RelayBatchResult } from '../../relay/relay.activities.ts';

export interface RelayProgress {
  published: number;
  duplicates: number;
  batches: number;
  checkpoint: RelayBatchResult['checkpoint'] | null;
}

export interface RelayInput {
  batchSize?: number;
  idleWaitMs?: number;
  /** Batches per run before continue-as-new (each batch adds ~6 history events). */
  batchesPerRun?: number;
  /** Carried across continue-as-new so the totals cover the relay's whole life. */
  progress?: RelayProgress;
}

export const relayProgressQuery = defineQuery<RelayProgress>('relayProgress');

const { relayBatch } = proxyActivities<RelayActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds' },
});

export async function outboxRelay(input: RelayInput = {}): Promise<never> {
  const batchSize = input.batchSize ?? 500;
  const idleWaitMs = input.idleWaitMs ?? 10_000;
  const batchesPerRun = input.batchesPerRun ?? 500;
  const progress: RelayProgress = input.progress ?? { published: 0, duplicates: 0, batches: 0, checkpoint: null };
  setHandler(relayProgressQuery, () => progress);
  for (let batch = 0; batch < batchesPerRun && !workflowInfo().continueAsNewSuggested; batch++) {
    const result = await relayBatch({ batchSize, idleWaitMs });
    progress.published += result.published;
    progress.duplicates += result.duplicates;
    progress.batches += 1;
    progress.checkpoint = result.checkpoint;
  }
  return continueAsNew<typeof outboxRelay>({ batchSize, idleWaitMs, batchesPerRun, progress });
}

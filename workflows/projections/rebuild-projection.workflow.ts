// Rebuild a projection from the outbox (id `rebuild/<projection>`, task queue `projector`):
// fresh tables, replay with heartbeated progress, atomic swap. Started by `npm run rebuild` and by
// the admin route POST /v1/admin/projections/{projection}/rebuild.
import { defineQuery, proxyActivities, setHandler } from '@temporalio/workflow';
import type { RebuildActivities, RebuildProgress } from '../../projector/rebuild.activities.ts';
import { ACTIVITY_OPTIONS } from '../retry-policy.ts';

/** What the rebuild activity heartbeats: how far the replay is (the CLI's progress bar reads it). */
export type { RebuildProgress };

export type RebuildPhase = 'preparing' | 'replaying' | 'swapping' | 'done';

export interface RebuildStatus {
  phase: RebuildPhase;
  replayed: number;
  total: number;
}

export const rebuildStatusQuery = defineQuery<RebuildStatus>('rebuildStatus');

const { prepareRebuild, swapRebuild } = proxyActivities<RebuildActivities>(ACTIVITY_OPTIONS.rebuildStep);
const { replayIntoRebuild } = proxyActivities<RebuildActivities>(ACTIVITY_OPTIONS.rebuildReplay);

export async function rebuildProjection(input: { projection: string }): Promise<RebuildStatus> {
  const status: RebuildStatus = { phase: 'preparing', replayed: 0, total: 0 };
  setHandler(rebuildStatusQuery, () => status);
  status.total = await prepareRebuild(input.projection);
  status.phase = 'replaying';
  const replayed: RebuildProgress = await replayIntoRebuild({ projection: input.projection, total: status.total });
  status.replayed = replayed.replayed;
  status.phase = 'swapping';
  status.replayed += await swapRebuild({ projection: input.projection, checkpoint: replayed.checkpoint });
  status.total = Math.max(status.total, status.replayed);
  status.phase = 'done';
  return status;
}

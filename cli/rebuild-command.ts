// `npm run rebuild -- <projection>`: starts (or joins) the rebuild workflow and shows its progress
// — a bar with rate and ETA on a terminal, one line per second otherwise.
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { PROJECTION_NAMES } from '../services/read-models/projections.ts';
import { connectTemporalClient } from '../runtime/connections.ts';
import {
  rebuildProjection,
  rebuildStatusQuery,
  type RebuildProgress,
  type RebuildStatus,
} from '../workflows/projections/rebuild-projection.workflow.ts';
import { temporalAddress } from './stack/temporal.ts';
import type { StackSettings } from './stack/settings.ts';
import { TASK_QUEUES, WORKFLOW_IDS } from '../contracts/workflow-names.ts';

/** Live replay progress from the pending activity's last heartbeat. */
async function heartbeatProgress(client: Client, workflowId: string): Promise<RebuildProgress | undefined> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const details = raw.pendingActivities?.find((a) => a.activityType?.name === 'replayIntoRebuild')?.heartbeatDetails
    ?.payloads?.[0];
  return details ? defaultPayloadConverter.fromPayload<RebuildProgress>(details) : undefined;
}

export function formatProgress(done: number, total: number, ratePerSecond: number, tty: boolean): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const eta = ratePerSecond > 0 ? Math.max(0, (total - done) / ratePerSecond) : undefined;
  const text = `${done}/${total} events (${Math.round(fraction * 100)}%) ${Math.round(ratePerSecond)} ev/s ETA ${eta === undefined ? '?' : `${eta.toFixed(0)} s`}`;
  if (!tty) return text;
  const width = 30;
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`;
}

export async function runRebuildCommand(
  args: string[],
  settings: StackSettings,
  say: (line: string) => void,
): Promise<number> {
  const projection = args.find((a) => !a.startsWith('--'));
  if (!projection || !PROJECTION_NAMES.includes(projection)) {
    say(`usage: npm run rebuild -- <projection> [--test]   (projections: ${PROJECTION_NAMES.join(', ')})`);
    return projection ? 64 : 0;
  }
  const { client, connection } = await connectTemporalClient(temporalAddress(settings), settings.temporalNamespace);
  try {
    const workflowId = WORKFLOW_IDS.rebuild(projection);
    const handle = await client.workflow.start(rebuildProjection, {
      workflowId,
      taskQueue: TASK_QUEUES.projector,
      args: [{ projection }],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    say(`rebuilding ${projection} (workflow ${workflowId}; visible in the Temporal Web UI)`);
    const tty = process.stderr.isTTY === true;
    const started = Date.now();
    let finished = false;
    const result = handle.result().finally(() => {
      finished = true;
    });
    while (!finished) {
      await Promise.race([result, new Promise((resolve) => setTimeout(resolve, 1_000))]).catch(() => undefined);
      if (finished) break;
      const fallback: RebuildStatus = { phase: 'preparing', replayed: 0, total: 0 };
      const status = await handle.query(rebuildStatusQuery).catch(() => fallback);
      const live =
        status.phase === 'replaying' ? await heartbeatProgress(client, workflowId).catch(() => undefined) : undefined;
      const done = live?.replayed ?? status.replayed;
      const total = live?.total ?? status.total;
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      const line = `${status.phase.padEnd(9)} ${formatProgress(done, total, rate, tty)}`;
      if (tty) process.stderr.write(`\r${line}`);
      else say(line);
    }
    const final = await result;
    // The last line always shows where it ended, also for a rebuild quicker than the first poll.
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    const last = `${'done'.padEnd(9)} ${formatProgress(final.replayed, final.replayed, final.replayed / seconds, tty)}`;
    if (tty) process.stderr.write(`\r${last}\n`);
    else say(last);
    say(
      `✓ ${projection} rebuilt: ${final.replayed} events replayed in ${((Date.now() - started) / 1000).toFixed(1)} s, swapped in`,
    );
    return 0;
  } finally {
    await connection.close();
  }
}

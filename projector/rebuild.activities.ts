// Rebuilding a projection from the outbox: fill fresh copies of its tables by replaying the outbox
// in gap-free order, then swap them in atomically. Reads keep using the live tables until the swap.
import { heartbeat, activityInfo } from '@temporalio/activity';
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../services/kernel/database.ts';
import { checkpointOf, OUTBOX_START, readOutboxBatch, type OutboxCheckpoint } from '../services/kernel/outbox.ts';
import type { ProjectionDefinition } from '../services/read-models/projections.ts';

export const REBUILD_SUFFIX = '__rebuild';

export interface RebuildProgress {
  replayed: number;
  total: number;
  checkpoint: OutboxCheckpoint;
}

const countRow = z.object({ n: z.coerce.number() });

/** Events per read and per apply statement. */
const REPLAY_BATCH = 5_000;

/**
 * Replays everything after `from` into `tables + suffix`; returns where it got to. From the pool,
 * the next batch is read (on another connection) while this one is applied; in a transaction, in turn.
 */
async function replay(
  db: { pool: DatabasePool } | { tx: DatabaseTransactionConnection },
  definition: ProjectionDefinition,
  from: OutboxCheckpoint,
  onBatch: (replayed: number, at: OutboxCheckpoint) => void,
) {
  const projection = definition.into(REBUILD_SUFFIX);
  const prefetch = 'pool' in db;
  const conn = 'pool' in db ? db.pool : db.tx;
  let checkpoint = from;
  let replayed = 0;
  let next = readOutboxBatch(conn, checkpoint, REPLAY_BATCH);
  for (;;) {
    const events = await next;
    if (events.length === 0) return { checkpoint, replayed };
    const to = checkpointOf(events[events.length - 1]!);
    if (prefetch) {
      next = readOutboxBatch(conn, to, REPLAY_BATCH);
      next.catch(() => undefined); // awaited next round; it must not go unhandled if this apply throws
    }
    // The live projector's set-based apply: one statement per batch. An event that breaks its
    // contract fails the rebuild (the live projection parked it; re-drive or fix it first).
    const rows = events.map((event) => projection.rowOf(event)).filter((row) => row !== null);
    await projection.apply(conn, rows);
    if (!prefetch) next = readOutboxBatch(conn, to, REPLAY_BATCH);
    replayed += events.length;
    checkpoint = to;
    onBatch(replayed, checkpoint);
  }
}

export function createRebuildActivities(deps: {
  pool: DatabasePool;
  projections: Record<string, ProjectionDefinition>;
}) {
  const definitionOf = (projection: string) => {
    const definition = deps.projections[projection];
    if (!definition) throw new Error(`unknown projection ${projection}`);
    return definition;
  };
  return {
    /** Fresh, empty copies of the projection's tables; returns how many events there are to replay. */
    async prepareRebuild(projection: string): Promise<number> {
      const definition = definitionOf(projection);
      await deps.pool.transaction(async (tx) => {
        // The DDL runs in functions with the owner's rights (migration 0010): the app role has none.
        for (const table of definition.tables) await tx.query(sql.unsafe`select prepare_read_model_rebuild(${table})`);
      });
      return deps.pool.oneFirst(sql.type(countRow)`select count(*) as n from event_outbox`);
    },

    /**
     * Replays the outbox into the fresh tables, heartbeating progress. A retry resumes from the
     * last heartbeat: re-applying an event is a no-op (version guard), so an overlap is harmless.
     */
    async replayIntoRebuild(input: { projection: string; total: number }): Promise<RebuildProgress> {
      const definition = definitionOf(input.projection);
      const resumed = activityInfo().heartbeatDetails as RebuildProgress | undefined;
      const start = resumed ?? { replayed: 0, total: input.total, checkpoint: OUTBOX_START };
      const result = await replay({ pool: deps.pool }, definition, start.checkpoint, (replayed, checkpoint) =>
        heartbeat({
          replayed: start.replayed + replayed,
          total: Math.max(input.total, start.replayed + replayed),
          checkpoint,
        } satisfies RebuildProgress),
      );
      const replayed = start.replayed + result.replayed;
      return { replayed, total: Math.max(input.total, replayed), checkpoint: result.checkpoint };
    },

    /**
     * Catches the fresh tables up to the outbox head and swaps them in, in one transaction that
     * holds the live tables exclusively for its duration (readers and the live projector wait
     * briefly). Everything the live projector applied was published from below the gap-free head,
     * so the fresh tables contain it; events it applies later are at or below their versions.
     */
    async swapRebuild(input: { projection: string; checkpoint: OutboxCheckpoint }): Promise<number> {
      const definition = definitionOf(input.projection);
      return deps.pool.transaction(async (tx) => {
        for (const table of definition.tables)
          await tx.query(sql.unsafe`lock table ${sql.identifier([table])} in access exclusive mode`);
        const { replayed } = await replay({ tx }, definition, input.checkpoint, () => undefined);
        for (const table of definition.tables) await tx.query(sql.unsafe`select swap_read_model_rebuild(${table})`);
        return replayed;
      });
    },
  };
}

export type RebuildActivities = ReturnType<typeof createRebuildActivities>;

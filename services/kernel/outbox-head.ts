// Where the outbox ends: its newest position and the safe head a gap-free reader may reach now.
import { sql } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from './database.ts';

const outboxHeadRow = z.object({
  lastPosition: z.coerce.number().int(),
  events: z.coerce.number().int(),
  oldestInvisibleTxId: z.string(),
});

export type OutboxHead = z.infer<typeof outboxHeadRow>;

/** The last position written, the event count, and the snapshot xmin below which reads are gap-free. */
export async function readOutboxHead(pool: DatabasePool): Promise<OutboxHead> {
  return pool.one(sql.type(outboxHeadRow)`
    select coalesce(max(position), 0) as "lastPosition",
           count(*) as "events",
           pg_snapshot_xmin(pg_current_snapshot())::text as "oldestInvisibleTxId"
    from event_outbox`);
}

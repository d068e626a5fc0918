// Parked events (projection_dead_letters): list them, count them, and re-drive them once the cause
// is fixed — the event is applied through the projection again and leaves the table on success.
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../kernel/database.ts';
import { eventEnvelope, fromEnvelope, type EventRecord } from '../../contracts/envelope.ts';
import { outboxEvent } from '../kernel/outbox.ts';

/** A parked message's event: a CloudEvent, or an outbox row (parked before the wire had its own envelope). */
function parkedEvent(stored: unknown): { success: true; data: EventRecord } | { success: false; error: string } {
  const envelope = eventEnvelope.safeParse(stored);
  if (envelope.success) return { success: true, data: fromEnvelope(envelope.data) };
  const legacy = outboxEvent.safeParse(stored);
  return legacy.success ? { success: true, data: legacy.data } : { success: false, error: envelope.error.message };
}
import { inTransaction } from '../kernel/transaction.ts';
import { followVersions, type Projection } from './projections.ts';

export const deadLetter = z.object({
  id: z.coerce.number(),
  projection: z.string(),
  eventId: z.string(),
  streamSequence: z.coerce.number(),
  subject: z.string(),
  error: z.string(),
  attempts: z.number(),
  parkedAt: z.coerce.number(),
});
export type DeadLetter = z.infer<typeof deadLetter>;

export async function listDeadLetters(db: CommonQueryMethods, projection?: string): Promise<readonly DeadLetter[]> {
  return db.any(sql.type(deadLetter)`
    select id, projection, event_id::text as "eventId", stream_sequence as "streamSequence", subject, error, attempts,
           parked_at as "parkedAt"
    from projection_dead_letters
    ${projection ? sql.fragment`where projection = ${projection}` : sql.fragment``}
    order by projection, stream_sequence, id`);
}

export async function countDeadLetters(db: CommonQueryMethods): Promise<Record<string, number>> {
  const rows = await db.any(sql.type(z.object({ projection: z.string(), n: z.coerce.number() }))`
    select projection, count(*) as n from projection_dead_letters group by projection`);
  return Object.fromEntries(rows.map((r) => [r.projection, r.n]));
}

export interface RedriveResult {
  id: number;
  outcome: 'applied' | 'unchanged' | 'failed';
  error?: string;
}

/** Applies each parked event again (in stream order per projection); removes those that now apply. */
export async function redriveDeadLetters(
  pool: DatabasePool,
  projections: Record<string, Projection<unknown>>,
  ids: number[] | 'all',
): Promise<RedriveResult[]> {
  const rows = await pool.any(sql.type(z.object({ id: z.coerce.number(), projection: z.string(), event: z.unknown() }))`
    select id, projection, event from projection_dead_letters
    ${ids === 'all' ? sql.fragment`` : sql.fragment`where id = any(${sql.array(ids, 'int8')})`}
    order by projection, stream_sequence, id`);
  const results: RedriveResult[] = [];
  for (const row of rows) {
    const projection = projections[row.projection];
    const parsed = parkedEvent(row.event);
    if (!projection || !parsed.success) {
      results.push({
        id: row.id,
        outcome: 'failed',
        error: !projection
          ? `unknown projection ${row.projection}`
          : `not an event envelope: ${parsed.success ? '' : parsed.error}`,
      });
      continue;
    }
    const result = await inTransaction(pool, async (tx): Promise<RedriveResult> => {
      try {
        // The savepoint undoes a failed apply; the dead letter then stays where it is.
        const checked = projection.rowOf(parsed.data);
        // Redriven events follow their aggregate's version like any other: a jump stays parked.
        const { next, jumps } =
          checked === null ? { next: [], jumps: [] } : await followVersions(tx, projection, [{ row: checked }]);
        if (jumps[0]) throw jumps[0].error;
        const applied =
          next.length === 0 ? 0 : await tx.transaction((savepoint) => projection.apply(savepoint, [checked]));
        await tx.query(sql.unsafe`delete from projection_dead_letters where id = ${row.id}`);
        return { id: row.id, outcome: applied > 0 ? 'applied' : 'unchanged' };
      } catch (error) {
        return { id: row.id, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
      }
    });
    results.push(result);
  }
  return results;
}

// 6 (cont.): the idempotency table after the command benchmarks, and its pruning: the batched delete
// the maintenance workflow runs vs one plain DELETE of the same rows on an identical copy.
import { sql } from 'slonik';
import { z } from 'zod';
import { pruneExpiredIdempotencyKeys } from '../services/kernel/idempotency.ts';
import type { BenchContext } from './context.ts';
import { row, type Row } from './measure.ts';

const stats = z.object({ rows: z.coerce.number(), bytes: z.coerce.number() });

export async function idempotencyRows(ctx: BenchContext): Promise<{ rows: Row[]; keys: number; bytesPerKey: number }> {
  const before = await ctx.pool.one(sql.type(stats)`
    select (select count(*) from idempotency_keys) as rows, pg_total_relation_size('idempotency_keys') as bytes`);
  await ctx.pool.query(sql.unsafe`drop table if exists idempotency_keys_copy`);
  await ctx.pool.query(sql.unsafe`create table idempotency_keys_copy (like idempotency_keys including all)`);
  await ctx.pool.query(sql.unsafe`insert into idempotency_keys_copy select * from idempotency_keys`);
  await ctx.pool.query(sql.unsafe`update idempotency_keys set expires_at = now() - interval '1 second'`);
  await ctx.pool.query(sql.unsafe`update idempotency_keys_copy set expires_at = now() - interval '1 second'`);
  await ctx.pool.query(sql.unsafe`vacuum analyze idempotency_keys`);
  await ctx.pool.query(sql.unsafe`vacuum analyze idempotency_keys_copy`);

  ctx.say(`  idempotency keys: pruning ${before.rows.toLocaleString('en')} expired keys…`);
  let started = performance.now();
  const pruned = await pruneExpiredIdempotencyKeys(ctx.pool);
  const pruneSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const plain = await ctx.pool.query(sql.unsafe`delete from idempotency_keys_copy where expires_at < now()`);
  const plainSeconds = (performance.now() - started) / 1000;
  await ctx.pool.query(sql.unsafe`drop table idempotency_keys_copy`);
  return {
    keys: before.rows,
    bytesPerKey: before.rows > 0 ? before.bytes / before.rows : 0,
    rows: [
      row(
        'idempotency',
        'pruning expired keys: batches of 1,000 vs one DELETE',
        'throughput',
        'keys/s',
        { label: 'pruneExpiredIdempotencyKeys (batches of 1,000)', throughput: pruned / pruneSeconds, count: pruned },
        {
          label: 'one DELETE … WHERE expires_at < now()',
          throughput: plain.rowCount / plainSeconds,
          count: plain.rowCount,
        },
        `${before.rows.toLocaleString('en')} keys, ${(before.bytes / 1024 / 1024).toFixed(1)} MiB with indexes (${Math.round(before.bytes / Math.max(1, before.rows))} bytes/key)`,
      ),
    ],
  };
}

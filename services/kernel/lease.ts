// Leases for the pipeline's long-running loops (the relay, each projection). Temporal runs at most
// one attempt of a loop activity at a time as far as it knows, but an attempt it gave up on (a
// heartbeat timeout, a reset) may still be running somewhere. So each attempt takes the lease when
// it starts, which bumps an epoch, and each batch checks the epoch in the transaction that commits
// the batch's progress, under an advisory lock that the takeover also holds: once `takeLease`
// returns, the older loop cannot commit, publish or apply another batch.
import { hostname } from 'node:os';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from './database.ts';

export interface Lease {
  name: string;
  epoch: number;
}

/** The loop's lease was taken by a newer loop: it must stop without touching anything. */
export class LeaseLostError extends Error {
  constructor(lease: Lease, current: number | null) {
    super(`lease ${lease.name} was taken over (epoch ${current ?? 'gone'}, this loop holds ${lease.epoch}): stopping`);
    this.name = 'LeaseLostError';
  }
}

const epochRow = z.object({ epoch: z.coerce.number() });

/** Who holds a lease, for people reading `pipeline_leases`: host, process and what the caller adds. */
export function leaseHolder(detail: string): string {
  return `${hostname()}:${process.pid} ${detail}`;
}

/** Takes the lease for a new loop (waiting out a batch in flight), fencing off any older holder. */
export async function takeLease(pool: DatabasePool, name: string, holder: string): Promise<Lease> {
  return pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      select set_config('lock_timeout', '20s', true), pg_advisory_xact_lock(hashtextextended(${`lease:${name}`}, 0))`);
    const epoch = await tx.oneFirst(sql.type(epochRow)`
      insert into pipeline_leases (name, epoch, holder) values (${name}, 1, ${holder})
      on conflict (name) do update
        set epoch = pipeline_leases.epoch + 1, holder = excluded.holder, taken_at = now()
      returning epoch`);
    return { name, epoch };
  });
}

/**
 * Call first in the transaction that commits a batch: holds the lease's lock until commit and
 * throws LeaseLostError if a newer loop has taken it. A holder that stalls inside the transaction
 * is cut off by Postgres after 30 s idle, which releases the lock for the newer loop.
 */
export async function holdLease(tx: CommonQueryMethods, lease: Lease): Promise<void> {
  await tx.query(sql.unsafe`
    select set_config('idle_in_transaction_session_timeout', '30s', true),
           pg_advisory_xact_lock(hashtextextended(${`lease:${lease.name}`}, 0))`);
  // A statement of its own: its snapshot is taken after the lock, so it sees a takeover that committed meanwhile.
  const current = await tx.maybeOneFirst(
    sql.type(epochRow)`select epoch from pipeline_leases where name = ${lease.name}`,
  );
  if (current !== lease.epoch) throw new LeaseLostError(lease, current);
}

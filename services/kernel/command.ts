// How every service command runs: one transaction that locks its aggregate, claims the
// idempotency key, loads, decides, CAS-writes and appends its events, and stores its response
// under the key. CAS conflicts are retried with backoff only when the caller gave no expected
// version.
//
// The aggregate lock comes first, before the transaction's first write, because Postgres assigns
// `tx_id` at that first write and the outbox is read in `tx_id` order (invariant I2). Without it, a
// command that claimed its key early (a write), stalled, and loaded after a rival committed would
// append version N+1 with a smaller `tx_id` than the rival's version N, and the stream would carry
// them out of order (invariant I3; docs/event-order.md).
import { sql, type DatabaseTransactionConnection } from 'slonik';
import type { DatabasePool } from './database.ts';
import { DomainError } from './errors.ts';
import { claimIdempotencyKey, completeIdempotencyKey, requestHash, type IdempotencyScope } from './idempotency.ts';
import { CAS_RETRY, retryWithBackoff } from './retry.ts';
import { inTransaction } from './transaction.ts';

/** The aggregate a command changes; writers of one aggregate are serialised by it. */
export interface AggregateRef {
  tenantId: string;
  type: string;
  id: string;
}

export interface CommandRun<Response> {
  aggregate: AggregateRef;
  /** Present for requests that carry an Idempotency-Key; `request` is what its hash covers. */
  idempotency?: { scope: IdempotencyScope; request: unknown };
  /** True when the caller named its expected version: a conflict is then the caller's to resolve. */
  explicitVersion: boolean;
  execute(tx: DatabaseTransactionConnection): Promise<Response>;
}

export interface CommandResult<Response> {
  response: Response;
  /** True when the response is the stored one of an earlier request with the same key. */
  replayed: boolean;
}

export const isVersionConflict = (error: unknown) => error instanceof DomainError && error.code === 'VERSION_CONFLICT';

export async function runCommand<Response>(
  pool: DatabasePool,
  run: CommandRun<Response>,
): Promise<CommandResult<Response>> {
  const hash = run.idempotency ? requestHash(run.idempotency.request) : undefined;
  return retryWithBackoff(
    CAS_RETRY,
    (error) => !run.explicitVersion && isVersionConflict(error),
    () =>
      inTransaction(pool, async (tx) => {
        await lockAggregate(tx, run.aggregate);
        if (run.idempotency && hash) {
          const claim = await claimIdempotencyKey(tx, run.idempotency.scope, hash);
          if (claim.kind === 'replay') return { response: claim.response as Response, replayed: true };
        }
        const response = await run.execute(tx);
        if (run.idempotency) await completeIdempotencyKey(tx, run.idempotency.scope, response);
        return { response, replayed: false };
      }),
  );
}

/**
 * Holds a transaction-scoped advisory lock on the aggregate until commit or rollback. Taking it
 * writes nothing, so no `tx_id` is assigned yet; a rival writer of the same aggregate waits here and
 * gets its `tx_id` only after this transaction ends. (A hash collision between two aggregates only
 * serialises them needlessly.)
 */
export async function lockAggregate(tx: DatabaseTransactionConnection, aggregate: AggregateRef): Promise<void> {
  const key = `${aggregate.tenantId}/${aggregate.type}/${aggregate.id}`;
  await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

// How every service command runs: one transaction that locks its aggregate, claims the
// idempotency key, loads, decides, CAS-writes and appends its events, and stores its response
// under the key. CAS conflicts are retried with backoff only when the caller gave no expected
// version.
//
// Round trips are what a command costs (a few hundred microseconds each, against microseconds of
// work), so they are folded where the invariants allow: the lock and the key claim are one
// statement, and `commit` writes the CAS row, the events and the stored response as one statement
// (each write gated on the CAS row having been written). A keyed increment is BEGIN, lock + claim,
// the service's load, commit, COMMIT.
//
// The aggregate lock comes first, before the transaction's first write, because Postgres assigns
// `tx_id` at that first write and the outbox is read in `tx_id` order (invariant I2). Without it, a
// command that claimed its key early (a write), stalled, and loaded after a rival committed would
// append version N+1 with a smaller `tx_id` than the rival's version N, and the stream would carry
// them out of order (invariant I3; docs/event-order.md).
import { randomUUID } from 'node:crypto';
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { casStatement, currentVersion, type CasWrite } from './cas.ts';
import type { DatabasePool } from './database.ts';
import { DomainError, versionConflict } from './errors.ts';
import { claimIdempotencyKey, completeIdempotencyKey, requestHash, type IdempotencyScope } from './idempotency.ts';
import { insertEvents, withOutboxSpan, type NewEvent } from './outbox.ts';
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
  /**
   * Loads, decides and writes. A command whose write is one CAS row plus its events ends with
   * `commit` (one statement, which also stores the response under the key); any other writes its
   * own way and returns its response, which the kernel then stores.
   */
  execute(tx: DatabaseTransactionConnection, commit: Commit<Response>): Promise<Response>;
}

/** A command's whole write: the aggregate row, its events, and the answer built from the events' ids. */
export interface CommandChange<Response> {
  cas: CasWrite;
  events: readonly NewEvent[];
  respond(eventIds: readonly string[]): Response;
}

export type Commit<Response> = (change: CommandChange<Response>) => Promise<Response>;

export interface CommandResult<Response> {
  response: Response;
  /** True when the response is the stored one of an earlier request with the same key. */
  replayed: boolean;
}

export const isVersionConflict = (error: unknown): error is DomainError<'VERSION_CONFLICT'> =>
  error instanceof DomainError && error.code === 'VERSION_CONFLICT';

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
        const scope = run.idempotency?.scope;
        if (scope && hash) {
          const claim = await claimIdempotencyKey(tx, scope, hash, aggregateLockKey(run.aggregate));
          if (claim.kind === 'replay') return { response: claim.response as Response, replayed: true };
        } else {
          await lockAggregate(tx, run.aggregate);
        }
        let stored = false;
        const response = await run.execute(tx, async (change) => {
          stored = true;
          return commitChange(tx, change, scope);
        });
        if (scope && !stored) await completeIdempotencyKey(tx, scope, response);
        return { response, replayed: false };
      }),
  ).catch((error: unknown) => {
    // Without an expected version a conflict is only thrown once every attempt met one. The caller
    // named no version, so "expected N" would mean nothing to it. (Writers of one aggregate are
    // serialised by its lock: only a writer that bypasses the lock gets here.)
    if (run.explicitVersion || !isVersionConflict(error)) throw error;
    const { currentVersion } = error.details;
    throw new DomainError(
      'VERSION_CONFLICT',
      `${run.aggregate.type} ${run.aggregate.id} changed under each of ${CAS_RETRY.maxAttempts} attempts to apply this request; send it again`,
      { currentVersion },
    );
  });
}

/**
 * Holds a transaction-scoped advisory lock on the aggregate until commit or rollback. Taking it
 * writes nothing, so no `tx_id` is assigned yet; a rival writer of the same aggregate waits here and
 * gets its `tx_id` only after this transaction ends. (A hash collision between two aggregates only
 * serialises them needlessly.)
 */
export async function lockAggregate(tx: DatabaseTransactionConnection, aggregate: AggregateRef): Promise<void> {
  await tx.query(sql.unsafe`select pg_advisory_xact_lock(hashtextextended(${aggregateLockKey(aggregate)}, 0))`);
}

const aggregateLockKey = (aggregate: AggregateRef) => `${aggregate.tenantId}/${aggregate.type}/${aggregate.id}`;

const writtenRow = z.object({ version: z.coerce.number().int() });

/** The CAS row, the events and the stored response in one statement; VERSION_CONFLICT if the row moved. */
async function commitChange<Response>(
  tx: DatabaseTransactionConnection,
  change: CommandChange<Response>,
  scope: IdempotencyScope | undefined,
): Promise<Response> {
  const ids = change.events.map(() => randomUUID());
  const response = change.respond(ids);
  return withOutboxSpan(change.events, ids, async (events) => {
    const appended =
      events.length > 0 ? sql.fragment`, appended as (${insertEvents(events, ids, 'cas')})` : sql.fragment``;
    const stored = scope
      ? sql.fragment`, stored as (
        update idempotency_keys set response = ${sql.json(response as never)}
        where tenant_id = ${scope.tenantId} and caller = ${scope.caller} and operation = ${scope.operation}
          and key = ${scope.key} and exists (select 1 from cas))`
      : sql.fragment``;
    const written = await tx.maybeOne(sql.type(writtenRow)`
    with cas as (${casStatement(change.cas)}) ${appended} ${stored}
    select version from cas`);
    if (!written) throw versionConflict(change.cas.expectedVersion, await currentVersion(tx, change.cas));
    return response;
  });
}

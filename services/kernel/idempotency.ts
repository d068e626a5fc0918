// Idempotency keys for mutations (docs/architecture.md, "Idempotency"). A key is scoped by tenant, caller and operation, stored with
// a hash of the request, and claimed and completed inside the mutation's own transaction.
import { createHash } from 'node:crypto';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from './database.ts';
import { DomainError } from './errors.ts';
import { postgresErrorCode } from './postgres-errors.ts';

export interface IdempotencyScope {
  tenantId: string;
  /** Who sent the request (the token's `sub`): one caller's key never answers another's request. */
  caller: string;
  operation: string;
  key: string;
}

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay'; response: unknown };

export const IDEMPOTENCY_TTL_HOURS = 24;
/** How long a duplicate waits for the first request with its key before answering IN_FLIGHT. */
export const IN_FLIGHT_WAIT = '5s';

/** SHA-256 of the request's canonical JSON (keys sorted), so formatting never changes the hash. */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const storedKey = z.object({ requestHash: z.string(), response: z.unknown() });

const claimedRow = z.object({ claimed: z.coerce.number(), lifted: z.string() });

/**
 * Claims `scope` for this transaction, or returns the stored response of the request that already
 * used it. A concurrent duplicate blocks on the key's primary key until the first commits (then it
 * replays) or rolls back (then it claims); after IN_FLIGHT_WAIT it gets IDEMPOTENCY_IN_FLIGHT.
 * With `lockFirst`, the same statement first takes that transaction-scoped advisory lock (the
 * command kernel's aggregate lock, which must precede the first write), without a time limit.
 */
export async function claimIdempotencyKey(
  tx: CommonQueryMethods,
  scope: IdempotencyScope,
  hash: string,
  lockFirst?: string,
): Promise<IdempotencyClaim> {
  let claimed: number;
  try {
    // One round trip, in this order: the lock, the IN_FLIGHT_WAIT limit, the claim, the limit lifted
    // (after the aggregate has consumed every row of the insert).
    ({ claimed } = await tx.one(sql.type(claimedRow)`
      with locked as (
        select ${lockFirst === undefined ? sql.fragment`1` : sql.fragment`pg_advisory_xact_lock(hashtextextended(${lockFirst}, 0))`}
      ), limited as (
        select set_config('lock_timeout', ${IN_FLIGHT_WAIT}, true) from locked
      ), claim as (
        insert into idempotency_keys (tenant_id, caller, operation, key, request_hash, expires_at)
        select ${scope.tenantId}, ${scope.caller}, ${scope.operation}, ${scope.key}, ${hash},
               now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})
        from limited
        on conflict do nothing
        returning 1
      )
      select count(*) as claimed, set_config('lock_timeout', '0', true) as lifted from claim`));
  } catch (error) {
    if (postgresErrorCode(error) === '55P03') {
      throw new DomainError(
        'IDEMPOTENCY_IN_FLIGHT',
        `a request with Idempotency-Key "${scope.key}" is still being processed; retry shortly`,
      );
    }
    throw error;
  }
  if (claimed > 0) return { kind: 'claimed' };

  const existing = await tx.one(sql.type(storedKey)`
    select request_hash as "requestHash", response
    from idempotency_keys
    where tenant_id = ${scope.tenantId} and caller = ${scope.caller} and operation = ${scope.operation}
      and key = ${scope.key}`);
  if (existing.requestHash !== hash) {
    throw new DomainError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${scope.key}" was already used for a different ${scope.operation} request; use a new key`,
    );
  }
  return { kind: 'replay', response: existing.response };
}

/** Stores the response under the claimed key; same transaction as the mutation. */
export async function completeIdempotencyKey(
  tx: CommonQueryMethods,
  scope: IdempotencyScope,
  response: unknown,
): Promise<void> {
  await tx.query(sql.unsafe`
    update idempotency_keys set response = ${sql.json(response as never)}
    where tenant_id = ${scope.tenantId} and caller = ${scope.caller} and operation = ${scope.operation}
      and key = ${scope.key}`);
}

/** Deletes expired keys in bounded batches; returns how many went. */
export async function pruneExpiredIdempotencyKeys(pool: DatabasePool, batchSize = 1_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await pool.query(sql.unsafe`
      delete from idempotency_keys
      where ctid in (select ctid from idempotency_keys where expires_at < now() limit ${batchSize})`);
    total += deleted.rowCount;
    if (deleted.rowCount < batchSize) return total;
  }
}

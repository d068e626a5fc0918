// How every service command runs: one transaction that claims the idempotency key, loads,
// decides, CAS-writes and appends its events, and stores its response under the key. CAS
// conflicts are retried with backoff only when the caller gave no expected version.
import type { DatabaseTransactionConnection } from 'slonik';
import type { DatabasePool } from './database.ts';
import { DomainError } from './errors.ts';
import { claimIdempotencyKey, completeIdempotencyKey, requestHash, type IdempotencyScope } from './idempotency.ts';
import { CAS_RETRY, retryWithBackoff } from './retry.ts';
import { inTransaction } from './transaction.ts';

export interface CommandRun<Response> {
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
